/* Issue 11 item 18: the program of the suppressions-file tests: one thread (leaky_worker, created in
 * leaky_spawn) that exits and is never joined: a thread-leak report at exit, status 66. Prints
 * "main ran" first. */
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static _Atomic pid_t worker_tid;

static void *leaky_worker(void *arg) {
  atomic_store(&worker_tid, tw_test_gettid());
  return arg;
}

TW_NOINLINE static void leaky_spawn(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, leaky_worker, NULL));
}

int main(void) {
  printf("main ran\n");
  fflush(stdout);
  leaky_spawn();
  unsigned long spins = 0;
  while (atomic_load(&worker_tid) == 0) tw_test_pause(&spins, "worker start", 0, 0);
  tw_test_wait_gone(atomic_load(&worker_tid));
  return 0;
}
