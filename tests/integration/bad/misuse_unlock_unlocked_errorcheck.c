/*
 * unlock-unlocked, PTHREAD_MUTEX_ERRORCHECK: a worker locks and unlocks `queue_lock`
 * (drain_queue), then unlocks it again (cleanup_after_error). glibc refuses with EPERM and the
 * mutex stays intact: main destroys it afterwards (0).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t queue_lock;

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

TW_NOINLINE void drain_queue(void) {
  TW_OK(pthread_mutex_lock(&queue_lock));
  TW_OK(pthread_mutex_unlock(&queue_lock));
}

TW_NOINLINE int cleanup_after_error(void) {
  return pthread_mutex_unlock(&queue_lock); /* already unlocked by drain_queue */
}

static void *worker(void *arg) {
  (void)arg;
  drain_queue();
  int rc = cleanup_after_error();
  printf("second unlock returned %s\n", errname(rc));
  return NULL;
}

int main(void) {
  pthread_t t;
  tw_test_errorcheck_init(&queue_lock);
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  int rc = pthread_mutex_destroy(&queue_lock);
  printf("destroy returned %s\n", errname(rc));
  return 0;
}
