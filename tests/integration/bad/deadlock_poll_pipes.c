/*
 * A thread polls two pipes that nobody will write, and main joins it: every thread is asleep. The
 * report names the set ("2 fds (pipe 3, pipe 5)").
 */
#include <poll.h>
#include <pthread.h>

#include "tw_test.h"

static int cmd[2], data[2];

static TW_NOINLINE void *dispatcher(void *arg) {
  (void)arg;
  struct pollfd p[2] = {{cmd[0], POLLIN, 0}, {data[0], POLLIN, 0}};
  TW_CHECK(poll(p, 2, -1) >= 0); /* blocks forever */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(cmd) == 0 && pipe(data) == 0);
  TW_OK(pthread_create(&t, NULL, dispatcher, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
