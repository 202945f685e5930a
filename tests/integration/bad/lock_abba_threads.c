/* ABBA across two threads that run one after the other: worker_ab takes A then B, is joined, then
 * worker_ba takes B then A. The run never hangs, but the order graph has the cycle A -> B -> A. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int shared;

static void *worker_ab(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&lock_a));
  TW_OK(pthread_mutex_lock(&lock_b));
  shared++;
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_a));
  return NULL;
}

static void *worker_ba(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&lock_b));
  TW_OK(pthread_mutex_lock(&lock_a));
  shared++;
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&lock_b));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, worker_ab, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, worker_ba, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_CHECK(shared == 2);
  return 0;
}
