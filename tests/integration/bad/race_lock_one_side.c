/* A counter incremented under a mutex by one thread and without it by another: the locked side
 * holds the mutex, the other holds nothing, so they share no lock, and nothing orders them (the
 * second waits for the first's task to go, which is no synchronisation). A race-suspect listing
 * the mutex the first thread held and none for the second. */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"
#include "race_turns.h"

static volatile long counter; /* watched */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

TW_NOINLINE static void inc_locked(void) {
  pthread_mutex_lock(&lock);
  counter++;
  pthread_mutex_unlock(&lock);
}

TW_NOINLINE static void inc_unlocked(void) { counter++; }

static void *locked_side(void *arg) {
  (void)arg;
  turn_first();
  for (int i = 0; i < 20; i++) {
    inc_locked();
    tw_test_sleep_ms(1);
  }
  return NULL;
}

static void *unlocked_side(void *arg) {
  (void)arg;
  turn_second();
  for (int i = 0; i < 20; i++) inc_unlocked();
  return NULL;
}

int main(void) {
  run_in_turns(locked_side, NULL, unlocked_side, NULL, NULL);
  printf("counter = %ld\n", counter);
  return 0;
}
