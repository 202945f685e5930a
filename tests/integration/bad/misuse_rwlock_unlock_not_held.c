/*
 * rwlock-unlock-not-held: main takes `routes_lock` for reading (read_routes); a worker, which
 * holds it neither for reading nor for writing, unlocks it (drop_foreign_read_lock). glibc 2.36
 * has no owner for read locks: the unlock returns 0 and releases main's read lock (the reader
 * count drops to 0), so main never unlocks it again. (Unlocking a rwlock that nobody holds, or one
 * held for writing by another thread, corrupts glibc's state: this is the variant that stays safe.)
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t routes_lock = PTHREAD_RWLOCK_INITIALIZER;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE void read_routes(void) { TW_OK(pthread_rwlock_rdlock(&routes_lock)); }

TW_NOINLINE int drop_foreign_read_lock(void) {
  return pthread_rwlock_unlock(&routes_lock); /* only main holds it */
}

static void *worker(void *arg) {
  (void)arg;
  int rc = drop_foreign_read_lock();
  printf("unlock by a thread that does not hold it returned %s\n", errname(rc));
  return NULL;
}

int main(void) {
  pthread_t t;
  read_routes();
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
