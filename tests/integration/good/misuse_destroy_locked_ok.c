/*
 * The twin of bad/misuse_destroy_locked*: a default mutex, an error-checking mutex and an rwlock,
 * each locked by main and by a worker, and destroyed only after every holder has unlocked it (the
 * worker is joined first). Then each is initialised again at the same address and destroyed
 * unused.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t locks[2]; /* [0] default, [1] error-checking */
static pthread_rwlock_t routes_lock;

static void *worker(void *arg) {
  (void)arg;
  for (int k = 0; k < 2; k++) {
    TW_OK(pthread_mutex_lock(&locks[k]));
    TW_OK(pthread_mutex_unlock(&locks[k]));
  }
  TW_OK(pthread_rwlock_rdlock(&routes_lock));
  TW_OK(pthread_rwlock_unlock(&routes_lock));
  TW_OK(pthread_rwlock_wrlock(&routes_lock));
  TW_OK(pthread_rwlock_unlock(&routes_lock));
  return NULL;
}

static void init_all(void) {
  TW_OK(pthread_mutex_init(&locks[0], NULL));
  tw_test_errorcheck_init(&locks[1]);
  TW_OK(pthread_rwlock_init(&routes_lock, NULL));
}

static void destroy_all(void) {
  for (int k = 0; k < 2; k++) TW_OK(pthread_mutex_destroy(&locks[k]));
  TW_OK(pthread_rwlock_destroy(&routes_lock));
}

int main(void) {
  pthread_t t;
  init_all();
  for (int k = 0; k < 2; k++) {
    TW_OK(pthread_mutex_lock(&locks[k]));
    TW_OK(pthread_mutex_unlock(&locks[k]));
  }
  TW_OK(pthread_rwlock_wrlock(&routes_lock));
  TW_OK(pthread_rwlock_unlock(&routes_lock));
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  destroy_all();
  init_all();
  destroy_all();
  return 0;
}
