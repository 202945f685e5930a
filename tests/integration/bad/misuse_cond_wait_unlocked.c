/*
 * cond-wait-unlocked, default mutex: a worker calls pthread_cond_wait on `ready_cv` with
 * `ready_mutex`, which it does not hold (wait_without_lock). glibc 2.36 unlocks the free default
 * mutex without complaint (it returns 0 there) and waits; when the wait ends the worker holds the
 * mutex (glibc re-locks it), so it unlocks it then.
 *
 * Ordering without a predicate (the bug is that there is no lock to protect one): main signals the
 * condvar every millisecond until the worker, holding the mutex after its wait, sets `woke`;
 * signals sent before the worker waits are lost harmlessly. Main reads `woke` under the mutex.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t ready_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static bool woke; /* under ready_mutex */

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE int wait_without_lock(void) {
  return pthread_cond_wait(&ready_cv, &ready_mutex); /* ready_mutex is not held */
}

static void *worker(void *arg) {
  (void)arg;
  int rc = wait_without_lock();
  printf("wait without the mutex returned %s\n", errname(rc));
  if (rc == 0) { /* glibc re-locked the mutex at the end of the wait */
    woke = true;
    TW_OK(pthread_mutex_unlock(&ready_mutex));
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  unsigned long spins = 0;
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  for (;;) {
    TW_OK(pthread_mutex_lock(&ready_mutex));
    bool w = woke;
    TW_OK(pthread_mutex_unlock(&ready_mutex));
    if (w) break;
    TW_OK(pthread_cond_signal(&ready_cv));
    tw_test_pause(&spins, "worker to wake", 0, 0);
  }
  TW_OK(pthread_join(t, NULL));
  return 0;
}
