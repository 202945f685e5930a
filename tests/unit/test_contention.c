/* Unit tests for runtime/contention.c: records aggregate by key with weights and a max, a full
 * table drops and counts; the per-lock waits charge each unlock exactly the waiting time its hold
 * caused (with synthetic clocks), slots are handed to another lock once free, and concurrent adders
 * lose nothing (also run under TSan). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/limits.h"
#include "runtime/contention.h"

/* The record matching a key in a snapshot, summed over its slots (a key may have two). */
static struct tw_contention find(uint8_t kind, uint8_t wclass, uintptr_t obj, uint32_t stack) {
  struct tw_contention *all = NULL, sum = {kind, wclass, stack, obj, 0, 0, 0};
  long n = tw_contention_snapshot(&all);
  assert_true(n >= 0);
  for (long i = 0; i < n; i++) {
    if (all[i].kind != kind || all[i].wclass != wclass || all[i].obj != obj ||
        all[i].stack != stack)
      continue;
    sum.count += all[i].count;
    sum.delay_ns += all[i].delay_ns;
    if (all[i].max_ns > sum.max_ns) sum.max_ns = all[i].max_ns;
  }
  free(all);
  return sum;
}

static void test_contention_records_aggregate_with_weights(void **state) {
  (void)state;
  tw_contention_add(TW_PROF_BLOCK, 1, 0x1000, 7, 100, 1);
  tw_contention_add(TW_PROF_BLOCK, 1, 0x1000, 7, 300, 1);
  tw_contention_add(TW_PROF_BLOCK, 1, 0x1000, 7, 50, 10); /* sampled 1 in 10 */
  tw_contention_add(TW_PROF_MUTEX, 1, 0x1000, 7, 999, 1); /* another kind: another record */
  struct tw_contention r = find(TW_PROF_BLOCK, 1, 0x1000, 7);
  assert_int_equal(r.count, 12);
  assert_int_equal(r.delay_ns, 100 + 300 + 500);
  assert_int_equal(r.max_ns, 300); /* one event's, unscaled */
  r = find(TW_PROF_MUTEX, 1, 0x1000, 7);
  assert_int_equal(r.count, 1);
  assert_int_equal(r.delay_ns, 999);
  r = find(TW_PROF_BLOCK, 2, 0x1000, 7); /* another wait class: nothing */
  assert_int_equal(r.count, 0);
}

static void test_lockwait_charges_the_hold(void **state) {
  (void)state;
  const uintptr_t lock = 0x5550;
  assert_int_equal(tw_lockwait_charge(lock, 50), 0); /* nobody waits */
  uint32_t a = tw_lockwait_begin(lock, 100), b = tw_lockwait_begin(lock, 200);
  assert_int_not_equal(a, 0);
  assert_int_equal(a, b); /* one slot per lock */
  assert_true(tw_lockwait_maybe(lock));
  assert_false(tw_lockwait_maybe(lock + 64)); /* another lock: nobody waits for it */
  /* The holder unlocks at 300: A waited 200, B 100. */
  assert_int_equal(tw_lockwait_charge(lock, 300), 300);
  tw_lockwait_end(a, 100); /* A got the lock */
  /* A's hold ends at 450: only B waited, and only since the last charge. */
  assert_int_equal(tw_lockwait_charge(lock, 450), 150);
  tw_lockwait_end(b, 200);
  assert_false(tw_lockwait_maybe(lock));
  assert_int_equal(tw_lockwait_charge(lock, 900), 0);
  /* A waiter that gives up (a timed lock) takes its own share out: the next charge is only C's. */
  uint32_t c = tw_lockwait_begin(lock, 1000), d = tw_lockwait_begin(lock, 1100);
  tw_lockwait_end(d, 1100);
  assert_int_equal(tw_lockwait_charge(lock, 1300), 300);
  tw_lockwait_end(c, 1000);
  /* A waiter that registers after a charge, with an earlier start, is charged from the charge. */
  uint32_t e = tw_lockwait_begin(lock, 1500);
  assert_int_equal(tw_lockwait_charge(lock, 1600), 100);
  uint32_t f = tw_lockwait_begin(lock, 1550); /* started before the last charge at 1600 */
  assert_int_equal(tw_lockwait_charge(lock, 1700), 200);
  tw_lockwait_end(e, 1500);
  tw_lockwait_end(f, 1550);
  assert_false(tw_lockwait_maybe(lock));
  tw_lockwait_end(0, 1); /* the "no slot" handle is a no-op */
}

static void test_lockwait_full_table_then_reuse(void **state) {
  (void)state;
  enum { N = TW_PROFILE_LOCKS + 512 };
  static uint32_t h[N];
  uint64_t dropped = tw_contention_dropped();
  unsigned none = 0;
  for (uintptr_t i = 0; i < N; i++) {
    h[i] = tw_lockwait_begin(0x100000 + 64 * i, 10);
    none += h[i] == 0;
  }
  assert_true(none >= N - TW_PROFILE_LOCKS); /* every slot has a waiter: the rest are refused */
  assert_int_equal(tw_contention_dropped() - dropped, none);
  for (uintptr_t i = 0; i < N; i++) {
    if (h[i]) assert_int_equal(tw_lockwait_charge(0x100000 + 64 * i, 20), 10);
    tw_lockwait_end(h[i], 10);
  }
  /* Nobody waits any more: a charge finds nothing (the inline hint may still say "maybe" for a
   * lock whose home slot another lock took). */
  for (uintptr_t i = 0; i < N; i++) assert_int_equal(tw_lockwait_charge(0x100000 + 64 * i, 30), 0);
  /* Free again: another lock gets a slot (one of those locks' old ones). */
  uint32_t again = tw_lockwait_begin(0x900000, 5);
  assert_int_not_equal(again, 0);
  tw_lockwait_end(again, 5);
}

static void test_contention_full_table_drops_and_counts(void **state) {
  (void)state;
  uint64_t before = tw_contention_dropped();
  for (uint32_t i = 0; i < TW_PROFILE_RECORDS + 100; i++)
    tw_contention_add(TW_PROF_BLOCK, 3, 0xabc000, 1000 + i, 1, 1);
  assert_true(tw_contention_dropped() - before >= 100);
  struct tw_contention *all = NULL;
  long n = tw_contention_snapshot(&all);
  assert_true(n > 0 && n <= (long)TW_PROFILE_RECORDS);
  free(all);
}

enum { ADDERS = 4, PER_ADDER = 20000 };
static void *adder(void *arg) {
  uintptr_t lock = (uintptr_t)arg;
  for (int i = 0; i < PER_ADDER; i++) {
    tw_contention_add(TW_PROF_BLOCK, 1, 0x7000, 42, 2, 1);
    uint32_t h = tw_lockwait_begin(lock, 10);
    tw_lockwait_charge(lock, 20);
    tw_lockwait_end(h, 10);
  }
  return NULL;
}

static void test_contention_concurrent_adders_lose_nothing(void **state) {
  (void)state;
  struct tw_contention before = find(TW_PROF_BLOCK, 1, 0x7000, 42);
  pthread_t t[ADDERS];
  for (uintptr_t i = 0; i < ADDERS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, adder, (void *)(0x8000 + (i % 2) * 64)), 0);
  for (int i = 0; i < ADDERS; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
  struct tw_contention after = find(TW_PROF_BLOCK, 1, 0x7000, 42);
  assert_int_equal(after.count - before.count, ADDERS * PER_ADDER);
  assert_int_equal(after.delay_ns - before.delay_ns, 2ull * ADDERS * PER_ADDER);
  assert_false(tw_lockwait_maybe(0x8000));
  assert_false(tw_lockwait_maybe(0x8040));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_contention_records_aggregate_with_weights),
      cmocka_unit_test(test_lockwait_charges_the_hold),
      cmocka_unit_test(test_lockwait_full_table_then_reuse),
      cmocka_unit_test(test_contention_concurrent_adders_lose_nothing),
      cmocka_unit_test(test_contention_full_table_drops_and_counts), /* last: it fills the table */
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
