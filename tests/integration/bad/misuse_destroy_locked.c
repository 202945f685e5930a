/*
 * destroy-locked, default mutex: main locks `cache_lock` (take_lock), then destroys it while still
 * holding it (tear_down). glibc 2.36 refuses: pthread_mutex_destroy returns EBUSY and leaves the
 * mutex as it was (initialised, locked), so main then unlocks it and destroys it properly; neither
 * of those later calls is a misuse.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t cache_lock;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE void take_lock(void) { TW_OK(pthread_mutex_lock(&cache_lock)); }

TW_NOINLINE int tear_down(void) {
  return pthread_mutex_destroy(&cache_lock); /* still held by this thread */
}

static void *nothing(void *arg) { return arg; }

int main(void) {
  pthread_t t;
  /* A second thread, so that the process is multi-threaded like the programs the check is for. */
  TW_OK(pthread_create(&t, NULL, nothing, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_mutex_init(&cache_lock, NULL));
  take_lock();
  int rc = tear_down();
  printf("destroy of a held mutex returned %s\n", errname(rc));
  TW_OK(pthread_mutex_unlock(&cache_lock));
  rc = pthread_mutex_destroy(&cache_lock);
  printf("destroy after unlock returned %s\n", errname(rc));
  return 0;
}
