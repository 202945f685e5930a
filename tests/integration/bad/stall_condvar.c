/*
 * A condvar wait (with its predicate loop) that nobody ever signals, while main stays in pause():
 * a stall of class condvar. No signal is ever sent, so it is not a lost wakeup.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static bool ready;

static void *wait_until_ready(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  while (!ready) TW_OK(pthread_cond_wait(&ready_cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, wait_until_ready, NULL));
  tw_test_idle_forever();
}
