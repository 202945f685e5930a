/* Two threads increment a `static` global counter without a lock. They run one after the other --
 * T3 starts counting once T2's task is gone and main waits in pthread_join, which it sees by
 * polling the kernel, not through any pthread call -- so no run ever loses an increment, yet
 * nothing orders the two threads: the race is there, and threadwatch reports it from the watched
 * accesses (THREADWATCH_WATCH=counter finds the non-exported symbol in the .symtab). */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"
#include "race_turns.h"

static volatile long counter; /* static: not in .dynsym, only in .symtab */

TW_NOINLINE static void inc_a(void) { counter++; }
TW_NOINLINE static void inc_b(void) { counter++; }

static void *thread_a(void *arg) {
  (void)arg;
  turn_first();
  for (int i = 0; i < 20; i++) {
    inc_a();
    tw_test_sleep_ms(1); /* spread out: see race_turns.h */
  }
  return NULL;
}

static void *thread_b(void *arg) {
  (void)arg;
  turn_second();
  for (int i = 0; i < 20; i++) inc_b();
  return NULL;
}

int main(void) {
  run_in_turns(thread_a, NULL, thread_b, NULL, NULL);
  printf("counter = %ld\n", counter); /* after both joins: ordered, not a race */
  return 0;
}
