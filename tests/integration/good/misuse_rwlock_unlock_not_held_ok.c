/*
 * The twin of bad/misuse_rwlock_unlock_not_held: every rwlock unlock is made by a thread that holds
 * it. Four threads take `routes_lock` for reading (one of them twice, recursively, and unlocks
 * twice) and for writing, 1000 times each, plus a tryrdlock/trywrlock that is unlocked only when
 * it succeeded.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t routes_lock = PTHREAD_RWLOCK_INITIALIZER;
static long routes;

static void *worker(void *arg) {
  long id = (long)arg;
  long seen = 0;
  for (int i = 0; i < 1000; i++) {
    TW_OK(pthread_rwlock_rdlock(&routes_lock));
    if (id == 0) TW_OK(pthread_rwlock_rdlock(&routes_lock)); /* a recursive read lock */
    seen += routes;
    if (id == 0) TW_OK(pthread_rwlock_unlock(&routes_lock));
    TW_OK(pthread_rwlock_unlock(&routes_lock));
    TW_OK(pthread_rwlock_wrlock(&routes_lock));
    routes++;
    TW_OK(pthread_rwlock_unlock(&routes_lock));
    if (pthread_rwlock_tryrdlock(&routes_lock) == 0) TW_OK(pthread_rwlock_unlock(&routes_lock));
    if (pthread_rwlock_trywrlock(&routes_lock) == 0) TW_OK(pthread_rwlock_unlock(&routes_lock));
  }
  return (void *)seen;
}

int main(void) {
  pthread_t ts[4];
  for (long i = 0; i < 4; i++) TW_OK(pthread_create(&ts[i], NULL, worker, (void *)i));
  for (int i = 0; i < 4; i++) TW_OK(pthread_join(ts[i], NULL));
  TW_CHECK(routes == 4000);
  return 0;
}
