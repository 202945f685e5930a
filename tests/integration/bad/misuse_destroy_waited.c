/*
 * destroy-waited: a worker waits on `job_cv` (with its predicate, in pthread_cond_timedwait with an
 * 800 ms deadline) and nobody ever signals it; main destroys the condvar while the worker waits
 * (retire_job_queue). glibc 2.36's pthread_cond_destroy blocks until every waiter has left the
 * condvar, so a waiter that waited forever would hang the program: the timed wait makes the waiter
 * leave on its own (ETIMEDOUT) at most 800 ms later, and the destroy then returns 0. No signal or
 * broadcast is sent, so the only misuse is the destroy.
 *
 * Ordering: the worker sets `waiting` under `job_mutex` before it waits; main seeing it set while
 * holding `job_mutex` means the worker is inside the wait (glibc registers the waiter before it
 * releases the mutex).
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t job_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cv;
static bool waiting, have_job; /* under job_mutex; have_job is never set */

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

static void *wait_for_job(void *arg) {
  (void)arg;
  struct timespec deadline;
  TW_CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
  deadline.tv_nsec += 800 * 1000 * 1000L;
  if (deadline.tv_nsec >= 1000 * 1000 * 1000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000 * 1000 * 1000L;
  }
  int rc = 0;
  TW_OK(pthread_mutex_lock(&job_mutex));
  waiting = true;
  while (!have_job && rc == 0) rc = pthread_cond_timedwait(&job_cv, &job_mutex, &deadline);
  TW_OK(pthread_mutex_unlock(&job_mutex));
  printf("waiter left with %s\n", errname(rc));
  return NULL;
}

TW_NOINLINE int retire_job_queue(void) {
  return pthread_cond_destroy(&job_cv); /* the worker still waits on it */
}

int main(void) {
  pthread_t t;
  unsigned long spins = 0;
  TW_OK(pthread_cond_init(&job_cv, NULL));
  TW_OK(pthread_create(&t, NULL, wait_for_job, NULL));
  for (;;) {
    TW_OK(pthread_mutex_lock(&job_mutex));
    bool w = waiting;
    TW_OK(pthread_mutex_unlock(&job_mutex));
    if (w) break;
    tw_test_pause(&spins, "worker to wait", 0, 0);
  }
  int rc = retire_job_queue();
  printf("destroy returned %s\n", errname(rc));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
