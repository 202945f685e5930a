/* THREADWATCH_WATCH=0xADDR:LEN: the unprotected counter of bad/race_counter.c, watched by address.
 * The address is known only at run time (a position-independent executable), so the program runs
 * three times: it turns address randomisation off and runs itself again, then (same layout every
 * time now) puts its counter's address in THREADWATCH_WATCH and runs itself a last time, which
 * makes the race. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

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

int main(int argc, char **argv) {
  const char *stage = argc > 1 ? argv[1] : "";
  if (strcmp(stage, "") == 0) { /* 1: the same layout on every run from now on */
    TW_CHECK(personality(ADDR_NO_RANDOMIZE) != -1);
    execl("/proc/self/exe", argv[0], "watch", (char *)NULL);
    return 99;
  }
  if (strcmp(stage, "watch") == 0) { /* 2: watch this address in the next run */
    char spec[64];
    snprintf(spec, sizeof(spec), "%#lx:%zu", (unsigned long)&counter, sizeof(counter));
    TW_CHECK(setenv("THREADWATCH_WATCH", spec, 1) == 0);
    execl("/proc/self/exe", argv[0], "race", (char *)NULL);
    return 99;
  }
  pthread_t a, b; /* 3: the race */
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
  printf("counter = %ld\n", counter);
  return 0;
}
