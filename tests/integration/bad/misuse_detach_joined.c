/*
 * detach-joined: main joins a worker (join_worker), then detaches the same pthread_t
 * (detach_after_join). Safe with glibc 2.36 for the same reason as a second join: the joined
 * thread's descriptor is in glibc's stack cache, marked gone, and pthread_detach returns ESRCH.
 * No thread is created in between.
 */
#include <pthread.h>

#include "tw_test.h"

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

static void *worker(void *arg) { return arg; }

TW_NOINLINE void join_worker(pthread_t t) { TW_OK(pthread_join(t, NULL)); }

TW_NOINLINE int detach_after_join(pthread_t t) {
  return pthread_detach(t); /* already joined by join_worker */
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  join_worker(t);
  int rc = detach_after_join(t);
  printf("detach after join returned %s\n", errname(rc));
  return 0;
}
