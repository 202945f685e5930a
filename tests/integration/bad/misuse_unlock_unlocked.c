/*
 * unlock-unlocked, default mutex: a worker locks and unlocks `queue_lock` (drain_queue), then
 * unlocks it once more on a bad error path (cleanup_after_error). glibc's unlock of a free default
 * mutex returns 0 but leaves the mutex's user count one too low, so pthread_mutex_destroy would
 * then say EBUSY: the program never destroys it.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;

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
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
