/*
 * use-after-destroy, PTHREAD_MUTEX_ERRORCHECK: main initialises the error-checking `stats_lock`,
 * uses it, destroys it (retire_stats); a worker created afterwards locks it (bump_stats) without a
 * new init. glibc 2.36 marks a destroyed mutex invalid whatever its type: the lock returns EINVAL
 * and takes nothing, so bump_stats only unlocks when the lock succeeded.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t stats_lock;
static long stats;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE void retire_stats(void) { TW_OK(pthread_mutex_destroy(&stats_lock)); }

TW_NOINLINE int bump_stats(void) {
  int rc = pthread_mutex_lock(&stats_lock); /* destroyed by main, never re-initialised */
  if (rc == 0) {
    stats++;
    TW_OK(pthread_mutex_unlock(&stats_lock));
  }
  return rc;
}

static void *worker(void *arg) {
  (void)arg;
  int rc = bump_stats();
  printf("lock after destroy returned %s\n", errname(rc));
  return NULL;
}

int main(void) {
  pthread_t t;
  tw_test_errorcheck_init(&stats_lock);
  TW_OK(pthread_mutex_lock(&stats_lock));
  stats++;
  TW_OK(pthread_mutex_unlock(&stats_lock));
  retire_stats();
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
