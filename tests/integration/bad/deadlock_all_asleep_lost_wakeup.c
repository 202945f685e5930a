/* issue 12 item 6: a lost wakeup that ends in everyone asleep. notify() signals the condvar while
 * nobody waits (its thread exits and is joined); only then does wait_for_it() wait, without a
 * predicate, and main joins it: every thread is blocked for good. The all-asleep deadlock report
 * must carry the diagnosis: "lost wakeup: signalled by T2 at notify (...) before this wait began,
 * with no waiter", with the signaller's stack (today the all-asleep report replaces the lost-wakeup
 * stall and says nothing of it). */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;

static TW_NOINLINE void *notify(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  TW_OK(pthread_cond_signal(&ready)); /* nobody waits yet: the wakeup is lost */
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

static TW_NOINLINE void *wait_for_it(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  TW_OK(pthread_cond_wait(&ready, &mu)); /* no predicate: blocks forever */
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, notify, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, wait_for_it, NULL));
  TW_OK(pthread_join(t, NULL)); /* all asleep from here on */
  return 0;
}
