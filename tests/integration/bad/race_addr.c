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
  run_in_turns(thread_a, NULL, thread_b, NULL, NULL); /* 3: the race */
  printf("counter = %ld\n", counter);
  return 0;
}
