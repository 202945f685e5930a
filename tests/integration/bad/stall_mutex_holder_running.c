/*
 * A mutex stall whose holder is not in any watched call: hold_while_sleeping takes the mutex and
 * then waits in pause() (not watched: its stack is read from outside); lock_behind_sleeper waits
 * for it. main starts the second thread once the mutex is held, then stays in pause().
 * (stall_mutex_holder_sleeping: the same with a holder that sleeps, which is watched.)
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t lock_held;

static void *hold_while_sleeping(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&job_lock));
  pthread_barrier_wait(&lock_held);
  tw_test_idle_forever(); /* never unlocks */
  return NULL;
}

static void *lock_behind_sleeper(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&job_lock));
  TW_OK(pthread_mutex_unlock(&job_lock));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_barrier_init(&lock_held, NULL, 2));
  TW_OK(pthread_create(&t, NULL, hold_while_sleeping, NULL));
  pthread_barrier_wait(&lock_held);
  TW_OK(pthread_create(&t, NULL, lock_behind_sleeper, NULL));
  tw_test_idle_forever();
}
