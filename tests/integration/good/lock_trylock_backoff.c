/* Trylock back-off: forward() takes A then B; backoff() takes B then only *tries* A, and on EBUSY
 * releases B and starts over. A trylock never waits, so B -> A is no potential deadlock.
 * Phase 1: forward() in thread 1. Phase 2: the main thread holds A while backoff() runs in thread 2,
 * so its first trylock fails with EBUSY; main releases A once thread 2 has backed off, and the retry
 * succeeds while B is held. Phase 3: both run together for a while. */
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static atomic_int busy_seen;
static long work;

TW_NOINLINE static void forward(void) {
  TW_OK(pthread_mutex_lock(&lock_a));
  TW_OK(pthread_mutex_lock(&lock_b));
  work++;
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_a));
}

TW_NOINLINE static void backoff(void) {
  for (;;) {
    TW_OK(pthread_mutex_lock(&lock_b));
    int rc = pthread_mutex_trylock(&lock_a);
    if (rc == 0) break;
    TW_CHECK(rc == EBUSY);
    TW_OK(pthread_mutex_unlock(&lock_b));
    atomic_fetch_add(&busy_seen, 1);
    sched_yield();
  }
  work++;
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&lock_b));
}

static void *run_forward(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++) forward();
  return NULL;
}

static void *run_backoff(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++) backoff();
  return NULL;
}

int main(void) {
  pthread_t t1, t2;
  /* Phase 1: A -> B. */
  TW_OK(pthread_create(&t1, NULL, run_forward, (void *)1L));
  TW_OK(pthread_join(t1, NULL));
  /* Phase 2: the trylock fails while main holds A, then succeeds while B is held. */
  TW_OK(pthread_mutex_lock(&lock_a));
  TW_OK(pthread_create(&t2, NULL, run_backoff, (void *)1L));
  unsigned long spins = 0;
  while (atomic_load(&busy_seen) == 0) tw_test_pause(&spins, "a failed trylock", 0, 0);
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_join(t2, NULL));
  /* Phase 3: both paths at once. */
  TW_OK(pthread_create(&t1, NULL, run_forward, (void *)2000L));
  TW_OK(pthread_create(&t2, NULL, run_backoff, (void *)2000L));
  TW_OK(pthread_join(t1, NULL));
  TW_OK(pthread_join(t2, NULL));
  TW_CHECK(work == 4002);
  return 0;
}
