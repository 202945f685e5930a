/*
 * A select() on a pipe longer than THREADWATCH_STALL while main, which could write it, reads the
 * report file: one stall (what poll), then main writes and joins.
 */
#include <pthread.h>
#include <sys/select.h>

#include "tw_test.h"

static int p[2];

static TW_NOINLINE void *wait_ready(void *arg) {
  (void)arg;
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  TW_CHECK(select(p[0] + 1, &r, NULL, NULL, NULL) == 1);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(p) == 0);
  TW_OK(pthread_create(&t, NULL, wait_ready, NULL));
  tw_test_wait_json_lines(1);
  TW_CHECK(write(p[1], "x", 1) == 1);
  TW_OK(pthread_join(t, NULL));
  return 0;
}
