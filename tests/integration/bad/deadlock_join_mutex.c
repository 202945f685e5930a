/*
 * A cycle of two kinds of wait: hold_and_join holds M and joins lock_m, which waits for M.
 * lock_m is told to go only once M is held. main stays in pause() (not a watched call).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t m_held;

static void *lock_m(void *arg) {
  (void)arg;
  pthread_barrier_wait(&m_held);
  TW_OK(pthread_mutex_lock(&m)); /* held by hold_and_join, which waits for this thread */
  TW_OK(pthread_mutex_unlock(&m));
  return NULL;
}

static void *hold_and_join(void *arg) {
  pthread_t locker;
  (void)arg;
  TW_OK(pthread_mutex_lock(&m));
  TW_OK(pthread_create(&locker, NULL, lock_m, NULL));
  pthread_barrier_wait(&m_held);
  TW_OK(pthread_join(locker, NULL));
  TW_OK(pthread_mutex_unlock(&m));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_barrier_init(&m_held, NULL, 2));
  TW_OK(pthread_create(&t, NULL, hold_and_join, NULL));
  tw_test_idle_forever();
}
