/*
 * A pool that grows one thread at a time, slower than the growth period (one every 150 ms with
 * THREADWATCH_GROWTH=100ms), for twelve threads: its site rises for many periods in a row, but a
 * dozen threads is a pool sized to a machine, below the 16 a thread-growth report needs. Then the
 * threads are stopped and joined: no report at all.
 */
#include <pthread.h>

#include "tw_test.h"

#define NTHREADS 12

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stop;

static void *member(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  while (!stop) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

TW_NOINLINE void add_member(pthread_t *t) { TW_OK(pthread_create(t, NULL, member, NULL)); }

int main(void) {
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    add_member(&t[i]);
    struct timespec ts = {0, 150 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&mu);
  stop = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < NTHREADS; i++) TW_OK(pthread_join(t[i], NULL));
  return 0;
}
