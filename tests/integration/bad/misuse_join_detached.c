/*
 * join-detached: main detaches a worker (detach_worker) and then joins it (join_detached_worker).
 * The worker is kept alive (waiting for `release`) until after the join, so glibc 2.36 sees a live
 * detached thread and returns EINVAL at once, without waiting. Then main releases the worker and
 * waits for it to say it is done (it is detached: it cannot be joined); its exit after that needs
 * nothing from main.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool release, done; /* under mu */

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

static void *worker(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  while (!release) TW_OK(pthread_cond_wait(&cv, &mu));
  done = true;
  TW_OK(pthread_cond_broadcast(&cv));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

TW_NOINLINE void detach_worker(pthread_t t) { TW_OK(pthread_detach(t)); }

TW_NOINLINE int join_detached_worker(pthread_t t) {
  return pthread_join(t, NULL); /* detached by detach_worker */
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  detach_worker(t);
  int rc = join_detached_worker(t);
  printf("join of a detached thread returned %s\n", errname(rc));
  TW_OK(pthread_mutex_lock(&mu));
  release = true;
  TW_OK(pthread_cond_broadcast(&cv));
  while (!done) TW_OK(pthread_cond_wait(&cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  return 0;
}
