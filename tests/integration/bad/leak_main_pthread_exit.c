/*
 * main leaves through pthread_exit(); afterwards its one other thread exits without ever being
 * joined. When that last thread is gone the process ends: threadwatch must report the leak then and
 * exit 66.
 */
#include <pthread.h>

#include "tw_test.h"

static pid_t main_tid;

static void *late(void *arg) {
  (void)arg;
  tw_test_wait_zombie(main_tid); /* main has already left through pthread_exit */
  return NULL;
}

TW_NOINLINE void spawn_late_leaker(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, late, NULL));
}

int main(void) {
  main_tid = tw_test_gettid();
  spawn_late_leaker();
  pthread_exit(NULL);
}
