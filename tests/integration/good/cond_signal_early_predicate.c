/*
 * The lost-wakeup shape done right: announce sets a flag and signals while nobody waits; the
 * waiter checks its predicate and does not wait. Then the waiter waits (predicate loop) for a
 * second flag that main sets 300 ms later, under THREADWATCH_STALL (1s in the .env): a wait after
 * a signal that found no waiter, ended in time. No report.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool first, second, waiting;

static void *announce(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  first = true;
  TW_OK(pthread_cond_signal(&cv)); /* nobody waits yet */
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

static void *wait_both(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  while (!first) TW_OK(pthread_cond_wait(&cv, &mu)); /* already true: no wait */
  waiting = true;
  while (!second) TW_OK(pthread_cond_wait(&cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

int main(void) {
  pthread_t a, w;
  unsigned long spins = 0;
  TW_OK(pthread_create(&a, NULL, announce, NULL));
  TW_OK(pthread_join(a, NULL));
  TW_OK(pthread_create(&w, NULL, wait_both, NULL));
  for (;;) {
    /* Holding mu with waiting set means the waiter is in its second wait (it released mu). */
    TW_OK(pthread_mutex_lock(&mu));
    bool is_waiting = waiting;
    TW_OK(pthread_mutex_unlock(&mu));
    if (is_waiting) break;
    tw_test_pause(&spins, "waiter to wait", 0, 0);
  }
  tw_test_sleep_ms(300);
  TW_OK(pthread_mutex_lock(&mu));
  second = true;
  TW_OK(pthread_cond_signal(&cv));
  TW_OK(pthread_mutex_unlock(&mu));
  TW_OK(pthread_join(w, NULL));
  return 0;
}
