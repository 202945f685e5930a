/*
 * A worker thread calls exit(0) while main is blocked in read(): the exit path through a non-main
 * thread still reports the leaked (exited, never joined) thread and exits 66.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static _Atomic pid_t leaked_tid;
static int never_written[2];

static void *leaked(void *arg) {
  (void)arg;
  atomic_store(&leaked_tid, tw_test_gettid());
  return NULL;
}

static void *finisher(void *arg) {
  (void)arg;
  pid_t tid;
  unsigned long spins = 0;
  while ((tid = atomic_load(&leaked_tid)) == 0) tw_test_pause(&spins, "leaked start", 0, 0);
  tw_test_wait_gone(tid);
  exit(0); /* ends the process from a worker thread */
}

TW_NOINLINE void spawn_leaker(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, leaked, NULL));
}

TW_NOINLINE void spawn_finisher(void) {
  /* Created detached: a pthread_detach after pthread_create would race with the finisher's exit(0)
   * (at that moment the thread really is still joinable, and would be reported). */
  pthread_t t;
  pthread_attr_t attr;
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  TW_OK(pthread_create(&t, &attr, finisher, NULL));
  TW_OK(pthread_attr_destroy(&attr));
}

int main(void) {
  char c;
  TW_CHECK(pipe(never_written) == 0);
  spawn_leaker();
  spawn_finisher();
  ssize_t n = read(never_written[0], &c, 1); /* never returns: the finisher exits the process */
  return (int)n + 10;
}
