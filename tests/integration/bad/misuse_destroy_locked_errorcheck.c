/*
 * destroy-locked, PTHREAD_MUTEX_ERRORCHECK: main locks `cache_lock` (take_lock), then destroys it
 * while still holding it (tear_down). glibc 2.36 refuses with EBUSY, as for a default mutex, and
 * the mutex stays initialised and locked: main unlocks it and destroys it properly afterwards.
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
  TW_OK(pthread_create(&t, NULL, nothing, NULL));
  TW_OK(pthread_join(t, NULL));
  tw_test_errorcheck_init(&cache_lock);
  take_lock();
  int rc = tear_down();
  printf("destroy of a held mutex returned %s\n", errname(rc));
  TW_OK(pthread_mutex_unlock(&cache_lock));
  rc = pthread_mutex_destroy(&cache_lock);
  printf("destroy after unlock returned %s\n", errname(rc));
  return 0;
}
