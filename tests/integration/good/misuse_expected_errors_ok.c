/* issue 12 item 9, the clean twin: failures that are part of the API's normal use are never
 * reported. EBUSY from pthread_mutex_trylock (a default and an error-checking mutex held by
 * another thread, and an error-checking one held by the caller), pthread_rwlock_trywrlock and
 * pthread_tryjoin_np; ETIMEDOUT from pthread_mutex_timedlock, pthread_cond_timedwait,
 * pthread_cond_clockwait, pthread_rwlock_timedwrlock and pthread_timedjoin_np with deadlines
 * already past; a recursive mutex locked twice (0). No report, exit 0. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "tw_test.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER, held_ec, own_ec, rec, mu;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t taken, done;

static void *holder(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&held));
  TW_OK(pthread_mutex_lock(&held_ec));
  TW_OK(pthread_rwlock_rdlock(&rw));
  pthread_barrier_wait(&taken);
  pthread_barrier_wait(&done); /* main tries them all meanwhile */
  TW_OK(pthread_rwlock_unlock(&rw));
  TW_OK(pthread_mutex_unlock(&held_ec));
  TW_OK(pthread_mutex_unlock(&held));
  return NULL;
}

static void *lingers(void *arg) {
  pthread_barrier_wait(arg); /* alive until main has tried to join it */
  return NULL;
}

int main(void) {
  pthread_mutexattr_t a;
  TW_OK(pthread_mutexattr_init(&a));
  TW_OK(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK));
  TW_OK(pthread_mutex_init(&held_ec, &a));
  TW_OK(pthread_mutex_init(&own_ec, &a));
  TW_OK(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE));
  TW_OK(pthread_mutex_init(&rec, &a));
  TW_OK(pthread_mutexattr_destroy(&a));
  TW_OK(pthread_mutex_init(&mu, NULL));
  TW_OK(pthread_barrier_init(&taken, NULL, 2));
  TW_OK(pthread_barrier_init(&done, NULL, 2));

  pthread_t h;
  TW_OK(pthread_create(&h, NULL, holder, NULL));
  pthread_barrier_wait(&taken);
  struct timespec past, mono_past = {0, 0};
  clock_gettime(CLOCK_REALTIME, &past);
  past.tv_sec -= 1;
  TW_CHECK(pthread_mutex_trylock(&held) == EBUSY);
  TW_CHECK(pthread_mutex_trylock(&held_ec) == EBUSY);
  TW_CHECK(pthread_mutex_timedlock(&held, &past) == ETIMEDOUT);
  TW_CHECK(pthread_rwlock_trywrlock(&rw) == EBUSY);
  TW_CHECK(pthread_rwlock_timedwrlock(&rw, &past) == ETIMEDOUT);
  pthread_barrier_wait(&done);
  TW_OK(pthread_join(h, NULL));

  TW_OK(pthread_mutex_lock(&own_ec));
  TW_CHECK(pthread_mutex_trylock(&own_ec) == EBUSY); /* trylock never returns EDEADLK */
  TW_OK(pthread_mutex_unlock(&own_ec));
  TW_OK(pthread_mutex_lock(&rec));
  TW_OK(pthread_mutex_lock(&rec));
  TW_OK(pthread_mutex_unlock(&rec));
  TW_OK(pthread_mutex_unlock(&rec));

  TW_OK(pthread_mutex_lock(&mu));
  TW_CHECK(pthread_cond_timedwait(&cv, &mu, &past) == ETIMEDOUT);
  TW_CHECK(pthread_cond_clockwait(&cv, &mu, CLOCK_MONOTONIC, &mono_past) == ETIMEDOUT);
  TW_OK(pthread_mutex_unlock(&mu));

  pthread_barrier_t gate;
  TW_OK(pthread_barrier_init(&gate, NULL, 2));
  pthread_t l;
  TW_OK(pthread_create(&l, NULL, lingers, &gate));
  TW_CHECK(pthread_tryjoin_np(l, NULL) == EBUSY);
  TW_CHECK(pthread_timedjoin_np(l, NULL, &past) == ETIMEDOUT);
  pthread_barrier_wait(&gate);
  TW_OK(pthread_join(l, NULL));
  printf("every expected error seen\n");
  return 0;
}
