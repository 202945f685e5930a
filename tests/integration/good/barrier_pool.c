/*
 * A pool of four workers that run 200 phases in lock step with main: two barrier waits per phase
 * (start, done), a counter checked between them. The barrier is destroyed once everyone has left
 * it and then initialised again (a second, smaller pool). Silent.
 */
#include <pthread.h>

#include "tw_test.h"

#define WORKERS 4
#define PHASES 200

static pthread_barrier_t start, done;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long work;

static void *worker(void *arg) {
  (void)arg;
  for (int p = 0; p < PHASES; p++) {
    pthread_barrier_wait(&start);
    pthread_mutex_lock(&mu);
    work++;
    pthread_mutex_unlock(&mu);
    pthread_barrier_wait(&done);
  }
  return NULL;
}

static void run_pool(int n) {
  pthread_t t[WORKERS];
  TW_OK(pthread_barrier_init(&start, NULL, (unsigned)n + 1));
  TW_OK(pthread_barrier_init(&done, NULL, (unsigned)n + 1));
  work = 0;
  for (int i = 0; i < n; i++) TW_OK(pthread_create(&t[i], NULL, worker, NULL));
  for (int p = 0; p < PHASES; p++) {
    pthread_barrier_wait(&start);
    pthread_barrier_wait(&done);
    pthread_mutex_lock(&mu);
    TW_CHECK(work == (long)n * (p + 1));
    pthread_mutex_unlock(&mu);
  }
  for (int i = 0; i < n; i++) TW_OK(pthread_join(t[i], NULL));
  TW_OK(pthread_barrier_destroy(&start));
  TW_OK(pthread_barrier_destroy(&done));
}

int main(void) {
  run_pool(WORKERS);
  run_pool(2);
  return 0;
}
