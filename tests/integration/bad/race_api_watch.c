/* threadwatch_watch_named() at run time, after a thread exists: the counter is watched from then on
 * in every thread, under the label given; threadwatch_unwatch() stops it (ENOENT the second time).
 * The race itself is bad/race_counter.c's. */
#include <pthread.h>
#include <stdio.h>

#include "../../../include/threadwatch.h"
#include "tw_test.h"
#include "race_turns.h"

static volatile long counter;
static int watch_rc;

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

/* Between the two threads: T2 exists, T3 does not yet. */
static void watch_now(void) {
  watch_rc = threadwatch_watch_named((const void *)&counter, sizeof(counter), "hits");
}

int main(void) {
  run_in_turns(thread_a, NULL, thread_b, NULL, watch_now); /* T2 exists before the watch */
  int un = threadwatch_unwatch((const void *)&counter);
  int again = threadwatch_unwatch((const void *)&counter);
  printf("watch %d unwatch %d again %d counter %ld\n", watch_rc, un, again, counter);
  return 0;
}
