/*
 * exit-holding-locks, PTHREAD_MUTEX_ERRORCHECK and an rwlock, through pthread_exit: a worker takes
 * the error-checking `index_lock` and `routes_lock` for reading (publish_and_quit), then leaves
 * with pthread_exit while holding both. Main joins it; glibc 2.36 keeps the dead thread as the
 * mutex's owner, so main's trylock afterwards says EBUSY (a failed trylock takes nothing; main
 * does not unlock a mutex it does not own).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t index_lock;
static pthread_rwlock_t routes_lock = PTHREAD_RWLOCK_INITIALIZER;
static int published;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE void *publish_and_quit(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&index_lock));
  TW_OK(pthread_rwlock_rdlock(&routes_lock));
  published = 1;
  pthread_exit(NULL); /* still holding index_lock and a read lock on routes_lock */
}

TW_NOINLINE void start_publisher(pthread_t *t) {
  TW_OK(pthread_create(t, NULL, publish_and_quit, NULL));
}

int main(void) {
  pthread_t t;
  tw_test_errorcheck_init(&index_lock);
  start_publisher(&t);
  TW_OK(pthread_join(t, NULL));
  int rc = pthread_mutex_trylock(&index_lock);
  printf("published %d, trylock of the dead thread's mutex returned %s\n", published,
         errname(rc));
  return 0;
}
