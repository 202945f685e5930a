/*
 * A lost wakeup: signal_too_early signals the condvar while nobody waits (and exits, joined by
 * main); only then does wait_without_predicate wait on it, with no predicate to tell it the event
 * already happened, so it sleeps forever. main stays in pause() afterwards.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;

static void *signal_too_early(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  TW_OK(pthread_cond_signal(&done_cv)); /* nobody waits yet: the signal is lost */
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

static void *wait_without_predicate(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  TW_OK(pthread_cond_wait(&done_cv, &mu)); /* the signal came before: blocks forever */
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, signal_too_early, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, wait_without_predicate, NULL));
  tw_test_idle_forever();
}
