/*
 * The twin of bad/misuse_unlock_not_owner*: a mutex handed between threads done right. For a
 * default and an error-checking mutex, main locks and unlocks it, then a worker locks and unlocks
 * it, then both take turns 1000 times while the other waits on a condvar: every unlock is made by
 * the thread that holds the mutex.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t locks[2]; /* [0] default, [1] error-checking */
static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int turn; /* under turn_mu: 0 main, 1 worker */
static long counter;

static void take_turns(int me) {
  for (int i = 0; i < 1000; i++) {
    TW_OK(pthread_mutex_lock(&turn_mu));
    while (turn != me) TW_OK(pthread_cond_wait(&turn_cv, &turn_mu));
    TW_OK(pthread_mutex_unlock(&turn_mu));
    for (int k = 0; k < 2; k++) {
      TW_OK(pthread_mutex_lock(&locks[k]));
      counter++;
      TW_OK(pthread_mutex_unlock(&locks[k]));
    }
    TW_OK(pthread_mutex_lock(&turn_mu));
    turn = !me;
    TW_OK(pthread_cond_signal(&turn_cv));
    TW_OK(pthread_mutex_unlock(&turn_mu));
  }
}

static void *worker(void *arg) {
  (void)arg;
  take_turns(1);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_mutex_init(&locks[0], NULL));
  tw_test_errorcheck_init(&locks[1]);
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  take_turns(0);
  TW_OK(pthread_join(t, NULL));
  TW_CHECK(counter == 4000);
  for (int k = 0; k < 2; k++) TW_OK(pthread_mutex_destroy(&locks[k]));
  return 0;
}
