/* issue 12 item 8, the clean twin: the thread that ends the process holds no lock. main waits on a
 * condvar (its mutex is released for the wait, though threadwatch keeps it on main's held-lock
 * stack); a detached worker, once main is inside the wait, calls exit(0) holding nothing. Neither
 * the exiting thread nor main (in a condvar wait) holds a lock: no report, exit 0. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool waiting, done; /* under mu */
static pid_t main_tid;

static TW_NOINLINE void *finisher(void *arg) {
  (void)arg;
  unsigned long spins = 0;
  for (;;) { /* main sets `waiting` under mu just before it waits */
    TW_OK(pthread_mutex_lock(&mu));
    bool w = waiting;
    TW_OK(pthread_mutex_unlock(&mu));
    if (w) break;
    tw_test_pause(&spins, "main to wait", 0, 0);
  }
  tw_test_wait_in_syscall(main_tid, SYS_futex);
  printf("exiting from the worker\n");
  fflush(stdout);
  exit(0);
}

int main(void) {
  main_tid = tw_test_gettid();
  pthread_attr_t attr;
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  pthread_t t;
  TW_OK(pthread_create(&t, &attr, finisher, NULL));
  TW_OK(pthread_attr_destroy(&attr));
  TW_OK(pthread_mutex_lock(&mu));
  waiting = true;
  while (!done) TW_OK(pthread_cond_wait(&cv, &mu)); /* never signalled: the worker exits */
  TW_OK(pthread_mutex_unlock(&mu));
  return 1;
}
