/*
 * A C11 hang with no lock cycle: the worker waits on a cnd_t for a flag nobody sets, main joins it
 * with thrd_join. Every thread is asleep.
 */
#include <threads.h>

#include "tw_test.h"

static mtx_t mu;
static cnd_t ready;
static int flag;

static TW_NOINLINE int wait_ready(void *arg) {
  (void)arg;
  mtx_lock(&mu);
  while (!flag) cnd_wait(&ready, &mu);
  mtx_unlock(&mu);
  return 0;
}

int main(void) {
  thrd_t t;
  TW_CHECK(mtx_init(&mu, mtx_plain) == thrd_success && cnd_init(&ready) == thrd_success);
  TW_CHECK(thrd_create(&t, wait_ready, NULL) == thrd_success);
  thrd_join(t, NULL);
  return 0;
}
