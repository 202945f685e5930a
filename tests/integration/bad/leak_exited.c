/* A thread that returns and is never joined: a thread-leak report with what "exited". */
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static _Atomic pid_t worker_tid;

static void *worker(void *arg) {
  (void)arg;
  atomic_store(&worker_tid, tw_test_gettid());
  return NULL;
}

/* Creates the thread and forgets it: this is the frame the report must name. */
TW_NOINLINE void spawn_worker(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, worker, NULL));
}

int main(void) {
  spawn_worker();
  pid_t tid;
  unsigned long spins = 0;
  while ((tid = atomic_load(&worker_tid)) == 0) tw_test_pause(&spins, "worker start", 0, 0);
  tw_test_wait_gone(tid); /* the worker has fully exited, unjoined */
  return 0;
}
