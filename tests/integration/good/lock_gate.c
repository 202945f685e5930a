/* Gate lock: ab() takes A then B and ba() takes B then A, but both only ever while holding G, so
 * the two inversions can never run at the same time: no potential deadlock, no report.
 * Two threads run them together, 500 times each. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static long work;

TW_NOINLINE static void ab(void) {
  TW_OK(pthread_mutex_lock(&gate));
  TW_OK(pthread_mutex_lock(&lock_a));
  TW_OK(pthread_mutex_lock(&lock_b));
  work++;
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&gate));
}

TW_NOINLINE static void ba(void) {
  TW_OK(pthread_mutex_lock(&gate));
  TW_OK(pthread_mutex_lock(&lock_b));
  TW_OK(pthread_mutex_lock(&lock_a));
  work++;
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&gate));
}

static void *worker(void *arg) {
  void (*fn)(void) = arg;
  int rc = pthread_barrier_wait(&start);
  TW_CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
  for (int i = 0; i < 500; i++) fn();
  return NULL;
}

int main(void) {
  pthread_t t1, t2;
  TW_OK(pthread_barrier_init(&start, NULL, 2));
  TW_OK(pthread_create(&t1, NULL, worker, (void *)ab));
  TW_OK(pthread_create(&t2, NULL, worker, (void *)ba));
  TW_OK(pthread_join(t1, NULL));
  TW_OK(pthread_join(t2, NULL));
  TW_CHECK(work == 1000);
  return 0;
}
