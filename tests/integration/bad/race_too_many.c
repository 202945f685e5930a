/* Five 8-byte variables watched: x86-64 has four debug registers per thread. One line names the
 * one that is not watched; the four others are, and the race on the first is reported. */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"
#include "race_turns.h"

static volatile long c1, c2, c3, c4, c5;

TW_NOINLINE static void inc_a(void) { c1++; }
TW_NOINLINE static void inc_b(void) { c1++; }

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
  inc_b();
  return NULL;
}

int main(void) {
  run_in_turns(thread_a, NULL, thread_b, NULL, NULL);
  printf("%ld\n", c1 + c2 + c3 + c4 + c5);
  return 0;
}
