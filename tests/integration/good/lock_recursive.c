/* A recursive mutex R re-locked by its owner while it holds another lock A: R, then A, then R
 * again. The re-lock cannot block (the thread owns R), so it makes no A -> R order; the only
 * order is R -> A. Done in two threads, one after the other. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t rec;
static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static long depth_total;

TW_NOINLINE static void inner(void) {
  TW_OK(pthread_mutex_lock(&rec)); /* already ours: recursion count 2 */
  depth_total++;
  TW_OK(pthread_mutex_unlock(&rec));
}

static void *worker(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&rec));
  TW_OK(pthread_mutex_lock(&lock_a));
  inner();
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&rec));
  return NULL;
}

int main(void) {
  pthread_mutexattr_t attr;
  TW_OK(pthread_mutexattr_init(&attr));
  TW_OK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE));
  TW_OK(pthread_mutex_init(&rec, &attr));
  TW_OK(pthread_mutexattr_destroy(&attr));
  for (int i = 0; i < 2; i++) {
    pthread_t t;
    TW_OK(pthread_create(&t, NULL, worker, NULL));
    TW_OK(pthread_join(t, NULL));
  }
  TW_CHECK(depth_total == 2);
  return 0;
}
