/*
 * cond-wait-unlocked, PTHREAD_MUTEX_ERRORCHECK: a worker calls pthread_cond_wait on `ready_cv`
 * with the error-checking `ready_mutex`, which it does not hold (wait_without_lock). glibc 2.36's
 * wait tries to unlock the mutex first, gets EPERM and returns EPERM at once without waiting (and
 * without re-locking), so no signal is needed and the worker holds nothing afterwards.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t ready_mutex;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE int wait_without_lock(void) {
  return pthread_cond_wait(&ready_cv, &ready_mutex); /* ready_mutex is not held */
}

static void *worker(void *arg) {
  (void)arg;
  int rc = wait_without_lock();
  printf("wait without the mutex returned %s\n", errname(rc));
  if (rc == 0) TW_OK(pthread_mutex_unlock(&ready_mutex)); /* not with glibc 2.36 */
  return NULL;
}

int main(void) {
  pthread_t t;
  tw_test_errorcheck_init(&ready_mutex);
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  int rc = pthread_mutex_destroy(&ready_mutex);
  printf("destroy returned %s\n", errname(rc));
  return 0;
}
