/*
 * A thread cancelled while it waits in pthread_join: the join never happened. Its target then exits
 * and nobody else joins it, so at exit it is an exited, never-joined thread (the cancelled join must
 * not count as a join in progress).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tw_test.h"

static int gate[2];
static pthread_t target;
static _Atomic pid_t target_tid, joiner_tid;

static void *target_main(void *arg) {
  char c;
  atomic_store(&target_tid, tw_test_gettid());
  TW_CHECK(read(gate[0], &c, 1) == 1); /* released by main after the joiner is cancelled */
  return arg;
}

static void *joiner_main(void *arg) {
  atomic_store(&joiner_tid, tw_test_gettid());
  pthread_join(target, NULL); /* cancelled while it waits */
  return arg;
}

TW_NOINLINE void spawn_target(void) { TW_OK(pthread_create(&target, NULL, target_main, NULL)); }

int main(void) {
  pthread_t joiner;
  unsigned long spins = 0;
  TW_CHECK(pipe(gate) == 0);
  spawn_target();
  TW_OK(pthread_create(&joiner, NULL, joiner_main, NULL));
  while (atomic_load(&joiner_tid) == 0) tw_test_pause(&spins, "joiner start", 0, 0);
  tw_test_wait_in_syscall(atomic_load(&joiner_tid), SYS_futex);
  TW_OK(pthread_cancel(joiner));
  void *ret;
  TW_OK(pthread_join(joiner, &ret));
  TW_CHECK(ret == PTHREAD_CANCELED);
  while (atomic_load(&target_tid) == 0) tw_test_pause(&spins, "target start", 0, 0);
  TW_CHECK(write(gate[1], "x", 1) == 1);
  tw_test_wait_gone(atomic_load(&target_tid));
  return 0;
}
