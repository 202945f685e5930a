/*
 * unlock-not-owner, PTHREAD_MUTEX_ERRORCHECK: main locks `table_lock` (lock_for_worker), a worker
 * tries to unlock it (unlock_someone_elses_lock). glibc refuses: EPERM, and main still holds the
 * mutex, so main unlocks it itself afterwards (correctly) and destroys it.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t table_lock;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE void lock_for_worker(void) { TW_OK(pthread_mutex_lock(&table_lock)); }

TW_NOINLINE int unlock_someone_elses_lock(void) {
  return pthread_mutex_unlock(&table_lock); /* held by main, not by this thread */
}

static void *worker(void *arg) {
  (void)arg;
  int rc = unlock_someone_elses_lock();
  printf("unlock by a non-owner returned %s\n", errname(rc));
  return NULL;
}

int main(void) {
  pthread_t t;
  tw_test_errorcheck_init(&table_lock);
  lock_for_worker();
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_mutex_unlock(&table_lock)); /* main still owns it: the worker's unlock failed */
  TW_OK(pthread_mutex_destroy(&table_lock));
  return 0;
}
