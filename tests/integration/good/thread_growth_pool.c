/*
 * A worker pool that grows to its size and stays there: 36 workers started in three batches
 * (100 ms apart, as a pool sized on demand would), then serving jobs for 2 s (ten growth periods
 * of THREADWATCH_GROWTH=200ms at the same size), then stopped and joined. Its creation site rose
 * for two or three periods only: no thread-growth (nor anything else).
 */
#include <pthread.h>

#include "tw_test.h"

#define BATCHES 3
#define PER_BATCH 12

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static int jobs, stop;
static long done;

static void *worker(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (!jobs && !stop) pthread_cond_wait(&work, &mu);
    if (stop) break;
    jobs--;
    done++;
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

TW_NOINLINE void grow_pool(pthread_t *t, int n) {
  for (int i = 0; i < n; i++) TW_OK(pthread_create(&t[i], NULL, worker, NULL));
}

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

int main(void) {
  pthread_t pool[BATCHES * PER_BATCH];
  for (int b = 0; b < BATCHES; b++) {
    grow_pool(pool + b * PER_BATCH, PER_BATCH);
    pause_ms(100);
  }
  for (int i = 0; i < 200; i++) { /* 2 s of jobs at the pool's size */
    pthread_mutex_lock(&mu);
    jobs += 4;
    pthread_cond_broadcast(&work);
    pthread_mutex_unlock(&mu);
    pause_ms(10);
  }
  pthread_mutex_lock(&mu);
  stop = 1;
  pthread_cond_broadcast(&work);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < BATCHES * PER_BATCH; i++) TW_OK(pthread_join(pool[i], NULL));
  return 0;
}
