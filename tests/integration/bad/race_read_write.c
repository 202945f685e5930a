/* One thread publishes a configuration word, another reads it, and nothing orders the two (the
 * reader waits for the writer's task to go, which is no synchronisation): a read-write
 * race-suspect. The reader only reads: the report says "read" for it (the trapping instruction is
 * decoded, docs/race.md). */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"
#include "race_turns.h"

long config; /* exported by nothing (an executable), found in .symtab */

TW_NOINLINE static void publish(long v) { config = v; }
TW_NOINLINE static long consult(void) { return config; }

static void *writer(void *arg) {
  (void)arg;
  turn_first();
  for (long v = 23; v <= 42; v++) {
    publish(v);
    tw_test_sleep_ms(1);
  }
  return NULL;
}

static void *reader(void *arg) {
  turn_second();
  *(long *)arg = consult();
  return NULL;
}

int main(void) {
  long got = 0;
  run_in_turns(writer, NULL, reader, &got, NULL);
  printf("got %ld\n", got);
  return 0;
}
