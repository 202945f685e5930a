/*
 * double-join: main joins a worker (join_first), then joins the same pthread_t again right away
 * (join_again). Safe with glibc 2.36 as written: the first join marks the descriptor as gone and
 * puts the stack in glibc's cache, so the second join reads valid memory and returns ESRCH. No
 * thread is created in between (a new thread could reuse the cached descriptor, and the second
 * join would then wait for that thread instead).
 */
#include <pthread.h>

#include "tw_test.h"

static const char *errname(int rc) { return rc ? strerrorname_np(rc) : "0"; }

static void *worker(void *arg) { return arg; }

TW_NOINLINE void join_first(pthread_t t) { TW_OK(pthread_join(t, NULL)); }

TW_NOINLINE int join_again(pthread_t t) {
  return pthread_join(t, NULL); /* already joined by join_first */
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  join_first(t);
  int rc = join_again(t);
  printf("second join returned %s\n", errname(rc));
  return 0;
}
