/*
 * A condvar destroyed right after a broadcast woke all its waiters: POSIX allows it (the rationale
 * of pthread_cond_destroy: "the condition variable ... may be freed immediately after all threads
 * waiting for it are awakened"), and glibc 2.36 supports it: a woken waiter confirms its wakeup
 * before it re-acquires the mutex, and pthread_cond_destroy waits only for those confirmations.
 *
 * Three waiters wait on `job_cv` with their predicate. Main, holding `job_mutex`, sees all three
 * inside the wait, sets the predicate, broadcasts, and destroys the condvar while still holding
 * the mutex: the woken waiters are then still inside pthread_cond_wait (re-acquiring the mutex)
 * when the destroy runs, every time. None was left unsignalled, so it is no destroy-waited.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t job_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cv;
static int waiting; /* under job_mutex */
static bool go;     /* under job_mutex */

static void *waiter(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&job_mutex));
  waiting++;
  while (!go) TW_OK(pthread_cond_wait(&job_cv, &job_mutex));
  TW_OK(pthread_mutex_unlock(&job_mutex));
  return NULL;
}

int main(void) {
  pthread_t ts[3];
  unsigned long spins = 0;
  TW_OK(pthread_cond_init(&job_cv, NULL));
  for (int i = 0; i < 3; i++) TW_OK(pthread_create(&ts[i], NULL, waiter, NULL));
  TW_OK(pthread_mutex_lock(&job_mutex));
  while (waiting < 3) {
    TW_OK(pthread_mutex_unlock(&job_mutex));
    tw_test_pause(&spins, "waiters to wait", waiting, 3);
    TW_OK(pthread_mutex_lock(&job_mutex));
  }
  go = true;
  TW_OK(pthread_cond_broadcast(&job_cv));
  TW_OK(pthread_cond_destroy(&job_cv)); /* all waiters were woken; they wait for job_mutex now */
  TW_OK(pthread_mutex_unlock(&job_mutex));
  for (int i = 0; i < 3; i++) TW_OK(pthread_join(ts[i], NULL));
  return 0;
}
