/* One thread publishes a configuration word, another reads it, and nothing orders the two (the
 * reader waits for the writer's task to go, which is no synchronisation): a read-write
 * race-suspect. The reader only reads: the report says "read" for it (the trapping instruction is
 * decoded, docs/race.md). */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"

long config; /* exported by nothing (an executable), found in .symtab */

static pid_t main_tid, first_tid;
static volatile int main_joining;

/* The two threads access the counter one at a time, while main waits in pthread_join touching
 * nothing: page emulation (docs/race.md) opens the watched page while a thread steps an access to
 * it, and an access by another thread in that moment is not seen (main joins through a pointer: a
 * call through the PLT reads the GOT, which shares the page; the second thread's polling does too,
 * so the first spreads its accesses out). Each waits for its turn by watching the kernel, never
 * through a pthread call: nothing orders the two threads for threadwatch. */
static void wait_turn(pid_t before) {
  unsigned long spins = 0;
  while (!main_joining) tw_test_pause(&spins, "main to join", 0, 0);
  tw_test_wait_in_syscall(main_tid, SYS_futex);
  if (before) tw_test_wait_gone(before);
}

TW_NOINLINE static void publish(long v) { config = v; }
TW_NOINLINE static long consult(void) { return config; }

static void *writer(void *arg) {
  *(volatile pid_t *)arg = tw_test_gettid();
  wait_turn(0);
  for (long v = 23; v <= 42; v++) {
    publish(v);
    tw_test_sleep_ms(1);
  }
  return NULL;
}

static void *reader(void *arg) {
  wait_turn(first_tid); /* after the first thread is gone */
  *(long *)arg = consult();
  return NULL;
}

int main(void) {
  pthread_t w, r;
  main_tid = tw_test_gettid();
  int (*volatile join)(pthread_t, void **) = pthread_join; /* see wait_turn */
  volatile pid_t tid = 0;
  long got = 0;
  TW_OK(pthread_create(&w, NULL, writer, (void *)&tid));
  unsigned long spins = 0;
  while (tid == 0) tw_test_pause(&spins, "writer to start", 0, 0);
  first_tid = tid;
  TW_OK(pthread_create(&r, NULL, reader, &got));
  main_joining = 1;
  TW_OK(join(r, NULL));
  TW_OK(join(w, NULL));
  printf("got %ld\n", got);
  return 0;
}
