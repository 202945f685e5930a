/* Leaks one exited thread; suppressed by a source-file glob (*leak_suppressed_file.c). */
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static _Atomic pid_t worker_tid;

static void *worker(void *arg) {
  (void)arg;
  atomic_store(&worker_tid, tw_test_gettid());
  return NULL;
}

TW_NOINLINE void make_worker(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, worker, NULL));
}

int main(void) {
  pid_t tid;
  unsigned long spins = 0;
  make_worker();
  while ((tid = atomic_load(&worker_tid)) == 0) tw_test_pause(&spins, "worker start", 0, 0);
  tw_test_wait_gone(tid);
  return 0;
}
