/*
 * Every thread asleep without a cycle: wait_for_go waits on a condvar (with its predicate) that
 * nobody will signal, and main joins it. Nothing in the process can end either wait.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool go;

static void *wait_for_go(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  while (!go) TW_OK(pthread_cond_wait(&cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

TW_NOINLINE void join_waiter(pthread_t t) { TW_OK(pthread_join(t, NULL)); }

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, wait_for_go, NULL));
  join_waiter(t);
  return 0;
}
