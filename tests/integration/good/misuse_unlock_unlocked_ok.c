/*
 * The twin of bad/misuse_unlock_unlocked*: every unlock matches a lock that succeeded. For a
 * default and an error-checking mutex: lock/unlock, a trylock that succeeds (then unlocked), a
 * trylock that fails with EBUSY while a worker holds the mutex (then NOT unlocked), a timedlock;
 * and a recursive mutex locked three times and unlocked three times.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t locks[2]; /* [0] default, [1] error-checking */
static pthread_mutex_t recursive;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool held, release; /* under mu */

static void *holder(void *arg) {
  pthread_mutex_t *m = arg;
  TW_OK(pthread_mutex_lock(m));
  TW_OK(pthread_mutex_lock(&mu));
  held = true;
  TW_OK(pthread_cond_broadcast(&cv));
  while (!release) TW_OK(pthread_cond_wait(&cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  TW_OK(pthread_mutex_unlock(m));
  return NULL;
}

static void exercise(pthread_mutex_t *m) {
  TW_OK(pthread_mutex_lock(m));
  TW_OK(pthread_mutex_unlock(m));
  TW_OK(pthread_mutex_trylock(m));
  TW_OK(pthread_mutex_unlock(m));
  struct timespec deadline;
  TW_CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
  deadline.tv_sec += 5;
  TW_OK(pthread_mutex_timedlock(m, &deadline));
  TW_OK(pthread_mutex_unlock(m));

  /* A trylock that fails takes nothing, so there is nothing to unlock. */
  pthread_t t;
  held = release = false;
  TW_OK(pthread_create(&t, NULL, holder, m));
  TW_OK(pthread_mutex_lock(&mu));
  while (!held) TW_OK(pthread_cond_wait(&cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  TW_CHECK(pthread_mutex_trylock(m) == EBUSY);
  TW_OK(pthread_mutex_lock(&mu));
  release = true;
  TW_OK(pthread_cond_broadcast(&cv));
  TW_OK(pthread_mutex_unlock(&mu));
  TW_OK(pthread_join(t, NULL));
}

int main(void) {
  pthread_mutexattr_t attr;
  TW_OK(pthread_mutex_init(&locks[0], NULL));
  TW_OK(pthread_mutexattr_init(&attr));
  TW_OK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK));
  TW_OK(pthread_mutex_init(&locks[1], &attr));
  TW_OK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE));
  TW_OK(pthread_mutex_init(&recursive, &attr));
  TW_OK(pthread_mutexattr_destroy(&attr));
  for (int k = 0; k < 2; k++) exercise(&locks[k]);
  for (int i = 0; i < 3; i++) TW_OK(pthread_mutex_lock(&recursive));
  for (int i = 0; i < 3; i++) TW_OK(pthread_mutex_unlock(&recursive));
  for (int k = 0; k < 2; k++) TW_OK(pthread_mutex_destroy(&locks[k]));
  TW_OK(pthread_mutex_destroy(&recursive));
  return 0;
}
