/*
 * unlock-not-owner, default mutex: main locks `table_lock` (lock_for_worker), then a worker unlocks
 * it (unlock_someone_elses_lock) although it never locked it. glibc lets the unlock of a default
 * (PTHREAD_MUTEX_NORMAL) mutex by another thread succeed: it returns 0 and the mutex is free again,
 * so nobody touches it afterwards (main must not unlock it a second time).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

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
  lock_for_worker();
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
