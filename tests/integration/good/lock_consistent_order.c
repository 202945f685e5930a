/* Eight threads, 1000 iterations each, all taking A -> B -> C (and sometimes only A -> C or B -> C)
 * in the same order, started together by a barrier so that they contend. No cycle: no report. */
#include <pthread.h>

#include "tw_test.h"

#define THREADS 8
#define ITERS 1000

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static long total;

static void *worker(void *arg) {
  long id = (long)arg;
  int rc = pthread_barrier_wait(&start);
  TW_CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
  for (int i = 0; i < ITERS; i++) {
    int skip_b = (i + id) % 3 == 0, skip_a = (i + id) % 5 == 0;
    if (!skip_a) TW_OK(pthread_mutex_lock(&lock_a));
    if (!skip_b) TW_OK(pthread_mutex_lock(&lock_b));
    TW_OK(pthread_mutex_lock(&lock_c));
    total++;
    TW_OK(pthread_mutex_unlock(&lock_c));
    if (!skip_b) TW_OK(pthread_mutex_unlock(&lock_b));
    if (!skip_a) TW_OK(pthread_mutex_unlock(&lock_a));
  }
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  TW_OK(pthread_barrier_init(&start, NULL, THREADS));
  for (long i = 0; i < THREADS; i++) TW_OK(pthread_create(&t[i], NULL, worker, (void *)i));
  for (int i = 0; i < THREADS; i++) TW_OK(pthread_join(t[i], NULL));
  TW_OK(pthread_barrier_destroy(&start));
  TW_CHECK(total == (long)THREADS * ITERS);
  return 0;
}
