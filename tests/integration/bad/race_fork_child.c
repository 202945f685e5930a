/* The racy counter of bad/race_counter.c in a forked child: watchpoints are not inherited across
 * fork, so the child arms its own thread again (and starts its analysis afresh); its race is
 * reported by the child. The parent only waits and returns the child's status. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tw_test.h"

static volatile long counter;

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

TW_NOINLINE static void inc_a(void) { counter++; }
TW_NOINLINE static void inc_b(void) { counter++; }

static void *thread_a(void *arg) {
  *(volatile pid_t *)arg = tw_test_gettid();
  wait_turn(0);
  for (int i = 0; i < 20; i++) {
    inc_a();
    tw_test_sleep_ms(1);
  }
  return NULL;
}

static void *thread_b(void *arg) {
  (void)arg;
  wait_turn(first_tid); /* after the first thread is gone */
  for (int i = 0; i < 20; i++) inc_b();
  return NULL;
}

static int child(void) {
  pthread_t a, b;
  main_tid = tw_test_gettid();
  int (*volatile join)(pthread_t, void **) = pthread_join; /* see wait_turn */
  volatile pid_t tid = 0;
  TW_OK(pthread_create(&a, NULL, thread_a, (void *)&tid));
  unsigned long spins = 0;
  while (tid == 0) tw_test_pause(&spins, "T2 to start", 0, 0);
  first_tid = tid;
  TW_OK(pthread_create(&b, NULL, thread_b, NULL));
  main_joining = 1;
  TW_OK(join(b, NULL));
  TW_OK(join(a, NULL));
  printf("child counter = %ld\n", counter);
  return 0;
}

int main(void) {
  counter = 1; /* the parent touches it before the fork: nothing to report */
  fflush(stdout);
  pid_t pid = fork();
  TW_CHECK(pid >= 0);
  if (pid == 0) return child();
  int status;
  TW_CHECK(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
