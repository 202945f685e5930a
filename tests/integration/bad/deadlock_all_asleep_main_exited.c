/*
 * main leaves through pthread_exit while its only other thread, read_after_main_left, reads a
 * pipe that nobody has written: main, the only other thread that could write it, is gone, so the
 * one thread left sleeps forever and the process never ends.
 */
#include <pthread.h>

#include "tw_test.h"

static int fds[2];

static void *read_after_main_left(void *arg) {
  char c;
  pid_t main_tid = (pid_t)(long)arg;
  tw_test_wait_zombie(main_tid);
  TW_CHECK(read(fds[0], &c, 1) == 1); /* blocks forever */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_create(&t, NULL, read_after_main_left, (void *)(long)tw_test_gettid()));
  pthread_exit(NULL);
}
