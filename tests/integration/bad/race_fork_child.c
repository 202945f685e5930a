/* The racy counter of bad/race_counter.c in a forked child: watchpoints are not inherited across
 * fork, so the child arms its own thread again (and starts its analysis afresh); its race is
 * reported by the child. The parent only waits and returns the child's status. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tw_test.h"
#include "race_turns.h"

static volatile long counter;

TW_NOINLINE static void inc_a(void) { counter++; }
TW_NOINLINE static void inc_b(void) { counter++; }

static void *thread_a(void *arg) {
  (void)arg;
  turn_first();
  for (int i = 0; i < 20; i++) {
    inc_a();
    tw_test_sleep_ms(1);
  }
  return NULL;
}

static void *thread_b(void *arg) {
  (void)arg;
  turn_second();
  for (int i = 0; i < 20; i++) inc_b();
  return NULL;
}

static int child(void) {
  run_in_turns(thread_a, NULL, thread_b, NULL, NULL);
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
