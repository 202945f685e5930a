/*
 * 60 threads alive at once (held on a barrier) with THREADWATCH_MAX_THREADS=50, then all joined:
 * exactly one thread-surge report and no leak.
 */
#include <pthread.h>

#include "tw_test.h"

#define NTHREADS 60

static pthread_barrier_t all_alive;
static pthread_t threads[NTHREADS];

static void *member(void *arg) {
  (void)arg;
  pthread_barrier_wait(&all_alive);
  return NULL;
}

TW_NOINLINE void spawn_crowd(void) {
  for (int i = 0; i < NTHREADS; i++) TW_OK(pthread_create(&threads[i], NULL, member, NULL));
}

int main(void) {
  TW_OK(pthread_barrier_init(&all_alive, NULL, NTHREADS + 1));
  spawn_crowd();
  pthread_barrier_wait(&all_alive); /* all 60 are alive right now */
  for (int i = 0; i < NTHREADS; i++) TW_OK(pthread_join(threads[i], NULL));
  return 0;
}
