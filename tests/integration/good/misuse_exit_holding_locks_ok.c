/*
 * The twin of bad/misuse_exit_holding_locks*: threads that end holding nothing.
 *  - a worker that locks a default mutex, an error-checking mutex and an rwlock (read, then
 *    write), unlocks them all and returns;
 *  - a worker that does the same and leaves through pthread_exit;
 *  - a worker cancelled inside pthread_cond_wait: glibc re-locks the mutex before the cleanup
 *    handlers run, and the cleanup handler unlocks it, so the thread ends holding nothing;
 *  - main itself returns while holding a mutex: exit-holding-locks is about threads other than
 *    main (the process ends there anyway).
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t locks[2]; /* [0] default, [1] error-checking */
static pthread_rwlock_t routes_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t main_lock = PTHREAD_MUTEX_INITIALIZER;
static bool waiting; /* under mu */

static void lock_and_unlock_all(void) {
  for (int k = 0; k < 2; k++) TW_OK(pthread_mutex_lock(&locks[k]));
  TW_OK(pthread_rwlock_rdlock(&routes_lock));
  TW_OK(pthread_rwlock_unlock(&routes_lock));
  TW_OK(pthread_rwlock_wrlock(&routes_lock));
  TW_OK(pthread_rwlock_unlock(&routes_lock));
  for (int k = 1; k >= 0; k--) TW_OK(pthread_mutex_unlock(&locks[k]));
}

static void *returns_clean(void *arg) {
  (void)arg;
  lock_and_unlock_all();
  return NULL;
}

static void *exits_clean(void *arg) {
  (void)arg;
  lock_and_unlock_all();
  pthread_exit(NULL);
}

static void unlock_mu(void *arg) { TW_OK(pthread_mutex_unlock(arg)); }

static void *cancelled_in_wait(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  pthread_cleanup_push(unlock_mu, &mu);
  waiting = true;
  for (;;) TW_OK(pthread_cond_wait(&cv, &mu)); /* until cancelled */
  pthread_cleanup_pop(1);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_mutex_init(&locks[0], NULL));
  tw_test_errorcheck_init(&locks[1]);

  TW_OK(pthread_create(&t, NULL, returns_clean, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, exits_clean, NULL));
  TW_OK(pthread_join(t, NULL));

  unsigned long spins = 0;
  TW_OK(pthread_create(&t, NULL, cancelled_in_wait, NULL));
  for (;;) {
    TW_OK(pthread_mutex_lock(&mu));
    bool w = waiting;
    TW_OK(pthread_mutex_unlock(&mu));
    if (w) break;
    tw_test_pause(&spins, "worker to wait", 0, 0);
  }
  TW_OK(pthread_cancel(t));
  void *ret;
  TW_OK(pthread_join(t, &ret));
  TW_CHECK(ret == PTHREAD_CANCELED);
  TW_OK(pthread_mutex_lock(&mu)); /* free again: the cleanup handler unlocked it */
  TW_OK(pthread_mutex_unlock(&mu));

  TW_OK(pthread_mutex_lock(&main_lock));
  TW_OK(pthread_mutex_unlock(&main_lock)); /* main ending holding it is exit-holding-locks too */
  return 0;
}
