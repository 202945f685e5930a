/*
 * The twin of bad/misuse_cond_wait_unlocked*: condvar waits made while holding the mutex, for a
 * default and an error-checking mutex, each with a plain wait and a timed wait (both ended by a
 * signal after the predicate is set); afterwards each mutex is unlocked by its waiter.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t locks[2]; /* [0] default, [1] error-checking */
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;

struct job {
  pthread_mutex_t *mu;
  bool timed, waiting, ready; /* waiting, ready under *mu */
};

static void *waiter(void *arg) {
  struct job *j = arg;
  TW_OK(pthread_mutex_lock(j->mu));
  j->waiting = true;
  while (!j->ready) {
    if (j->timed) {
      struct timespec deadline;
      TW_CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
      deadline.tv_sec += 10;
      TW_OK(pthread_cond_timedwait(&ready_cv, j->mu, &deadline));
    } else {
      TW_OK(pthread_cond_wait(&ready_cv, j->mu));
    }
  }
  TW_OK(pthread_mutex_unlock(j->mu));
  return NULL;
}

int main(void) {
  TW_OK(pthread_mutex_init(&locks[0], NULL));
  tw_test_errorcheck_init(&locks[1]);
  for (int i = 0; i < 4; i++) {
    struct job j = {&locks[i / 2], i % 2 == 1, false, false};
    pthread_t t;
    unsigned long spins = 0;
    TW_OK(pthread_create(&t, NULL, waiter, &j));
    for (;;) {
      TW_OK(pthread_mutex_lock(j.mu));
      bool w = j.waiting;
      if (w) {
        j.ready = true;
        TW_OK(pthread_cond_signal(&ready_cv));
      }
      TW_OK(pthread_mutex_unlock(j.mu));
      if (w) break;
      tw_test_pause(&spins, "waiter to wait", i, 0);
    }
    TW_OK(pthread_join(t, NULL));
  }
  for (int k = 0; k < 2; k++) TW_OK(pthread_mutex_destroy(&locks[k]));
  return 0;
}
