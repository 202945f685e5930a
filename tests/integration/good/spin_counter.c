/*
 * A spin-locked counter: four threads add to it, some under a mutex taken first (always in that
 * order), some with trylock; every lock released by its holder, every thread joined. Silent.
 */
#include <pthread.h>

#include "tw_test.h"

#define ROUNDS 20000

static pthread_spinlock_t counter_lock;
static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *adder(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < ROUNDS; i++) {
    if (id % 2 && i % 8 == 0) {
      pthread_mutex_lock(&outer);
      pthread_spin_lock(&counter_lock);
      counter++;
      pthread_spin_unlock(&counter_lock);
      pthread_mutex_unlock(&outer);
    } else if (i % 16 == 1) {
      while (pthread_spin_trylock(&counter_lock) != 0) continue;
      counter++;
      pthread_spin_unlock(&counter_lock);
    } else {
      pthread_spin_lock(&counter_lock);
      counter++;
      pthread_spin_unlock(&counter_lock);
    }
  }
  return NULL;
}

int main(void) {
  pthread_t t[4];
  TW_OK(pthread_spin_init(&counter_lock, PTHREAD_PROCESS_PRIVATE));
  for (long i = 0; i < 4; i++) TW_OK(pthread_create(&t[i], NULL, adder, (void *)i));
  for (int i = 0; i < 4; i++) TW_OK(pthread_join(t[i], NULL));
  TW_CHECK(counter == 4L * ROUNDS);
  TW_OK(pthread_spin_destroy(&counter_lock));
  TW_OK(pthread_spin_init(&counter_lock, PTHREAD_PROCESS_PRIVATE)); /* re-initialised: usable */
  pthread_spin_lock(&counter_lock);
  pthread_spin_unlock(&counter_lock);
  TW_OK(pthread_spin_destroy(&counter_lock));
  return 0;
}
