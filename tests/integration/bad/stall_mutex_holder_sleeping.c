/*
 * A mutex stall whose holder sleeps in a loop while it holds the mutex: hold_while_sleeping takes
 * it and then calls nanosleep forever; lock_behind_sleeper waits for it. The stall names the
 * holder as sleeping, with the sleep and where. main stays in pause().
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t lock_held;

static TW_NOINLINE void nap(void) { tw_test_sleep_ms(50); }

static void *hold_while_sleeping(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&job_lock));
  pthread_barrier_wait(&lock_held);
  for (;;) nap(); /* never unlocks */
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
