/*
 * The twin of bad/misuse_destroy_waited: a condvar destroyed only when nobody waits on it. A worker
 * waits on `job_cv` with its predicate; main sets the predicate, signals, joins the worker, then
 * destroys the condvar. A second condvar gets a timed wait that runs out (100 ms) and returns; it
 * is destroyed after that waiter was joined.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t job_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cv, idle_cv;
static bool waiting, have_job; /* under job_mutex */

static void *wait_for_job(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&job_mutex));
  waiting = true;
  while (!have_job) TW_OK(pthread_cond_wait(&job_cv, &job_mutex));
  TW_OK(pthread_mutex_unlock(&job_mutex));
  return NULL;
}

static void *wait_a_little(void *arg) {
  (void)arg;
  struct timespec deadline;
  TW_CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
  deadline.tv_nsec += 100 * 1000 * 1000L;
  if (deadline.tv_nsec >= 1000 * 1000 * 1000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000 * 1000 * 1000L;
  }
  int rc = 0;
  TW_OK(pthread_mutex_lock(&job_mutex));
  while (rc == 0) rc = pthread_cond_timedwait(&idle_cv, &job_mutex, &deadline);
  TW_OK(pthread_mutex_unlock(&job_mutex));
  TW_CHECK(rc == ETIMEDOUT);
  return NULL;
}

int main(void) {
  pthread_t t, u;
  unsigned long spins = 0;
  TW_OK(pthread_cond_init(&job_cv, NULL));
  TW_OK(pthread_cond_init(&idle_cv, NULL));
  TW_OK(pthread_create(&t, NULL, wait_for_job, NULL));
  TW_OK(pthread_create(&u, NULL, wait_a_little, NULL));
  for (;;) {
    TW_OK(pthread_mutex_lock(&job_mutex));
    bool w = waiting;
    TW_OK(pthread_mutex_unlock(&job_mutex));
    if (w) break;
    tw_test_pause(&spins, "worker to wait", 0, 0);
  }
  TW_OK(pthread_mutex_lock(&job_mutex));
  have_job = true;
  TW_OK(pthread_cond_signal(&job_cv));
  TW_OK(pthread_mutex_unlock(&job_mutex));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_cond_destroy(&job_cv));
  TW_OK(pthread_join(u, NULL));
  TW_OK(pthread_cond_destroy(&idle_cv));
  return 0;
}
