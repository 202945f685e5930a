/*
 * A reader nobody feeds: wait_for_request reads a pipe that nothing writes, while main stays in
 * pause() (running as far as threadwatch can tell: it could still write the pipe). Not a deadlock,
 * a stall.
 */
#include <pthread.h>

#include "tw_test.h"

static int fds[2];

static void *wait_for_request(void *arg) {
  char c;
  (void)arg;
  TW_CHECK(read(fds[0], &c, 1) == 1); /* blocks forever */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_create(&t, NULL, wait_for_request, NULL));
  tw_test_idle_forever();
}
