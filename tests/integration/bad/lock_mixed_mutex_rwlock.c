/* Mixed inversion: mutex_then_rw takes mutex M then wrlocks rwlock R; rw_then_mutex (run after it)
 * wrlocks R then takes M. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

static void *mutex_then_rw(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  TW_OK(pthread_rwlock_wrlock(&rw));
  TW_OK(pthread_rwlock_unlock(&rw));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

static void *rw_then_mutex(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_wrlock(&rw));
  TW_OK(pthread_mutex_lock(&mu));
  TW_OK(pthread_mutex_unlock(&mu));
  TW_OK(pthread_rwlock_unlock(&rw));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, mutex_then_rw, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, rw_then_mutex, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
