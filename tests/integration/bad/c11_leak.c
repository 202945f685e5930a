/*
 * A C11 thread leak: a listener made with thrd_create waits on a cnd_t nobody signals, and main
 * returns without thrd_join. glibc runs C11 threads without the exported pthread functions; the
 * leak is reported with the C11 wait and the thrd_create site.
 */
#include <threads.h>

#include "tw_test.h"

static mtx_t mu;
static cnd_t wake;
static int stop;
static volatile pid_t listener_tid;

static TW_NOINLINE int listener(void *arg) {
  (void)arg;
  mtx_lock(&mu);
  listener_tid = tw_test_gettid();
  while (!stop) cnd_wait(&wake, &mu);
  mtx_unlock(&mu);
  return 0;
}

static TW_NOINLINE void start_listener(void) {
  thrd_t t;
  TW_CHECK(thrd_create(&t, listener, NULL) == thrd_success);
}

int main(void) {
  TW_CHECK(mtx_init(&mu, mtx_plain) == thrd_success);
  TW_CHECK(cnd_init(&wake) == thrd_success);
  start_listener();
  while (listener_tid == 0) thrd_yield();
  tw_test_wait_in_syscall(listener_tid, SYS_futex); /* in cnd_wait: main never takes mu again */
  return 0;
}
