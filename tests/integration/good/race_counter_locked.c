/* The counter of bad/race_counter.c, always incremented under one mutex: every access of one
 * thread happens before every access of the other (unlock -> lock), and both hold the mutex. A
 * watched, correctly locked counter is silent. (The mutex lives on the heap, off the counter's
 * page: under page emulation a futex wait on that page fails, docs/race.md.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "tw_test.h"

static volatile long counter;
static pthread_mutex_t *lock;

TW_NOINLINE static void inc(void) {
  pthread_mutex_lock(lock);
  counter++;
  pthread_mutex_unlock(lock);
}

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < 100; i++) inc();
  return NULL;
}

int main(void) {
  pthread_t a, b;
  lock = malloc(sizeof(*lock));
  TW_CHECK(lock != NULL);
  TW_OK(pthread_mutex_init(lock, NULL));
  TW_OK(pthread_create(&a, NULL, worker, NULL));
  TW_OK(pthread_create(&b, NULL, worker, NULL));
  TW_OK(pthread_join(a, NULL));
  TW_OK(pthread_join(b, NULL));
  if (counter != 200) {
    fprintf(stderr, "counter = %ld\n", counter);
    return 1;
  }
  return 0;
}
