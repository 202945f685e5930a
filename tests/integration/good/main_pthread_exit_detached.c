/* main leaves through pthread_exit while detached workers run; they finish, the process exits 0. */
#include <pthread.h>

#include "tw_test.h"

static pid_t main_tid;

static void *worker(void *arg) {
  tw_test_wait_zombie(main_tid); /* keep running until main has left */
  volatile long x = 0;
  for (long i = 0; i < 100000; i++) x += i + (long)arg;
  return NULL;
}

int main(void) {
  pthread_attr_t attr;
  pthread_t t;
  main_tid = tw_test_gettid();
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  for (long i = 0; i < 4; i++) TW_OK(pthread_create(&t, &attr, worker, (void *)i));
  TW_OK(pthread_attr_destroy(&attr));
  pthread_exit(NULL);
}
