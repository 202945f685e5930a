/*
 * use-after-destroy, condvar: main initialises `done_cv`, destroys it (retire_done_cv), then a
 * worker created afterwards signals it (announce_done) without a new init. glibc 2.36's signal on
 * a destroyed condvar without waiters returns 0 and touches nothing else.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_cond_t done_cv;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE void retire_done_cv(void) { TW_OK(pthread_cond_destroy(&done_cv)); }

TW_NOINLINE int announce_done(void) {
  return pthread_cond_signal(&done_cv); /* destroyed by main, never re-initialised */
}

static void *worker(void *arg) {
  (void)arg;
  int rc = announce_done();
  printf("signal after destroy returned %s\n", errname(rc));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_cond_init(&done_cv, NULL));
  TW_OK(pthread_cond_broadcast(&done_cv));
  retire_done_cv();
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
