/*
 * A mutex stall whose holder is the main thread: main takes the mutex, starts lock_behind_main,
 * and stays in pause() (an unwatched system call) holding it. The holder is listed with the stack
 * of the system call it is stopped in, which runs through main.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

static void *lock_behind_main(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&state_lock)); /* main never unlocks */
  TW_OK(pthread_mutex_unlock(&state_lock));
  return NULL;
}

TW_NOINLINE void hold_and_idle(void) {
  pthread_t t;
  TW_OK(pthread_mutex_lock(&state_lock));
  TW_OK(pthread_create(&t, NULL, lock_behind_main, NULL));
  tw_test_idle_forever();
}

int main(void) {
  hold_and_idle();
  return 0;
}
