/*
 * destroy-locked, rwlock: main takes `routes_lock` for reading (take_read_lock), then destroys it
 * while still holding it (tear_down_routes). glibc 2.36's pthread_rwlock_destroy does nothing and
 * returns 0 even for a held rwlock, so after it the rwlock is destroyed: the program does not touch
 * it again (main ends holding it, which is not a misuse for the main thread).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t routes_lock;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE void take_read_lock(void) { TW_OK(pthread_rwlock_rdlock(&routes_lock)); }

TW_NOINLINE int tear_down_routes(void) {
  return pthread_rwlock_destroy(&routes_lock); /* still read-held by this thread */
}

static void *nothing(void *arg) { return arg; }

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, nothing, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_rwlock_init(&routes_lock, NULL));
  take_read_lock();
  int rc = tear_down_routes();
  printf("destroy of a read-held rwlock returned %s\n", errname(rc));
  return 0;
}
