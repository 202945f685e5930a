/* Unit tests for race_hb.c: synthetic sequences of synchronisation and accesses, no threads, no
 * traps. Two accesses race when they come from different threads, one is a write, they hold no lock
 * in common and neither happens before the other (create/join, mutex unlock->lock, rwlock,
 * condvar signal->wake, pipe write->read). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "race/hb.h"

#define M1 0x1000u
#define M2 0x2000u
#define RW 0x3000u
#define CV 0x4000u

static struct tw_race_shadow shadow;
static struct tw_race_access prior;

static int setup(void **state) {
  (void)state;
  tw_hb_reset(-1);
  tw_race_pairs_reset();
  memset(&shadow, 0, sizeof(shadow));
  return 0;
}

/* One access by the thread in `slot`, holding the given locks (0-terminated). Returns whether it
 * races with what the shadow remembers. */
static bool access(int slot, int write, uintptr_t pc, const uintptr_t *locks) {
  struct tw_race_access a;
  memset(&a, 0, sizeof(a));
  a.thread = (uint64_t)slot + 1;
  a.slot = (uint16_t)slot;
  a.sgen = tw_hb_slot_gen(slot);
  a.write = (uint8_t)write;
  a.pc = pc;
  a.epoch = tw_hb_vc(slot)[slot];
  while (locks && locks[a.nlocks]) {
    a.locks[a.nlocks] = locks[a.nlocks];
    a.nlocks++;
  }
  tw_race_shadow_lock(&shadow);
  bool r = tw_race_shadow_check(&shadow, &a, &prior);
  tw_race_shadow_unlock(&shadow);
  return r;
}

static const uintptr_t hold_m1[] = {M1, 0};
static const uintptr_t hold_m2[] = {M2, 0};
static const uintptr_t hold_rw[] = {RW, 0};

static void test_race_hb_unprotected_counter_races(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  assert_true(t1 >= 0 && t2 >= 0 && t1 != t2);
  assert_false(access(t1, 0, 0x10, NULL)); /* counter++ : read, write */
  assert_false(access(t1, 1, 0x11, NULL));
  assert_true(access(t2, 0, 0x20, NULL)); /* T2's read races with T1's write ... */
  assert_int_equal(prior.slot, t1);
  assert_int_equal(prior.pc, 0x11);
  assert_true(access(t2, 1, 0x21, NULL)); /* ... and so does its write */
  assert_int_equal(prior.slot, t1);
}

static void test_race_hb_read_after_unsynchronised_write(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  assert_false(access(t1, 1, 0x10, NULL));
  assert_true(access(t2, 0, 0x20, NULL));
  assert_int_equal(prior.write, 1);
  assert_int_equal(prior.pc, 0x10);
}

static void test_race_hb_write_after_unsynchronised_read(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  assert_false(access(t1, 0, 0x10, NULL));
  assert_true(access(t2, 1, 0x20, NULL));
  assert_int_equal(prior.write, 0);
}

static void test_race_hb_reads_never_race(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim(), t3 = tw_hb_slot_claim();
  assert_false(access(t1, 0, 0x10, NULL));
  assert_false(access(t2, 0, 0x20, NULL));
  assert_false(access(t3, 0, 0x30, NULL));
}

static void test_race_hb_same_mutex_silent(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  for (int i = 0; i < 3; i++) {
    tw_hb_acquire(t1, M1, true);
    assert_false(access(t1, 0, 0x10, hold_m1));
    assert_false(access(t1, 1, 0x11, hold_m1));
    tw_hb_release(t1, M1, false);
    tw_hb_acquire(t2, M1, true);
    assert_false(access(t2, 0, 0x20, hold_m1));
    assert_false(access(t2, 1, 0x21, hold_m1));
    tw_hb_release(t2, M1, false);
  }
}

static void test_race_hb_lock_on_one_side_only(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  tw_hb_acquire(t1, M1, true);
  assert_false(access(t1, 1, 0x10, hold_m1));
  tw_hb_release(t1, M1, false);
  assert_true(access(t2, 1, 0x20, NULL)); /* T2 never takes M1 */
  assert_int_equal(prior.nlocks, 1);
  assert_int_equal(prior.locks[0], M1);
  /* and the other way round: T1 under the lock after T2 without it */
  tw_hb_acquire(t1, M1, true);
  assert_true(access(t1, 1, 0x10, hold_m1));
  assert_int_equal(prior.slot, t2);
  assert_int_equal(prior.nlocks, 0);
  tw_hb_release(t1, M1, false);
}

static void test_race_hb_different_locks_race(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  tw_hb_acquire(t1, M1, true);
  assert_false(access(t1, 1, 0x10, hold_m1));
  tw_hb_release(t1, M1, false);
  tw_hb_acquire(t2, M2, true);
  assert_true(access(t2, 1, 0x20, hold_m2));
  tw_hb_release(t2, M2, false);
}

static void test_race_hb_create_and_join_order(void **state) {
  (void)state;
  int main_t = tw_hb_slot_claim();
  const uint64_t rec = 0x7000;
  assert_false(access(main_t, 1, 0x10, NULL)); /* main initialises the counter */
  tw_hb_release(main_t, TW_HB_KEY_START | rec, false); /* pthread_create */
  int child = tw_hb_slot_claim();
  tw_hb_acquire(child, TW_HB_KEY_START | rec, false); /* the child starts */
  tw_hb_forget(TW_HB_KEY_START | rec);
  assert_false(access(child, 1, 0x20, NULL));
  tw_hb_release(child, TW_HB_KEY_EXIT | rec, false); /* the child ends */
  tw_hb_slot_release(child);
  tw_hb_acquire(main_t, TW_HB_KEY_EXIT | rec, false); /* pthread_join returned */
  assert_false(access(main_t, 0, 0x11, NULL));
}

static void test_race_hb_without_join_races(void **state) {
  (void)state;
  int main_t = tw_hb_slot_claim();
  const uint64_t rec = 0x7000;
  tw_hb_release(main_t, TW_HB_KEY_START | rec, false);
  int child = tw_hb_slot_claim();
  tw_hb_acquire(child, TW_HB_KEY_START | rec, false);
  assert_false(access(child, 1, 0x20, NULL));
  assert_true(access(main_t, 0, 0x11, NULL)); /* main reads while the child may still write */
}

static void test_race_hb_condvar_handoff_silent(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  assert_false(access(t1, 1, 0x10, NULL)); /* the producer fills the datum */
  tw_hb_acquire(t1, M1, true);
  tw_hb_release(t1, CV, false); /* signal */
  tw_hb_release(t1, M1, false);
  tw_hb_release(t2, M1, false); /* the consumer waits: its mutex is released ... */
  tw_hb_acquire(t2, M1, true);  /* ... and taken again on the wake-up */
  tw_hb_acquire(t2, CV, false);
  tw_hb_release(t2, M1, false);
  assert_false(access(t2, 0, 0x20, NULL)); /* and reads it, no lock held */
  assert_false(access(t2, 1, 0x21, NULL));
}

static void test_race_hb_signal_alone_orders(void **state) {
  (void)state;
  /* signal -> wake is an edge of its own, even with no mutex in common */
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  assert_false(access(t1, 1, 0x10, NULL));
  tw_hb_release(t1, CV, false);
  tw_hb_acquire(t2, CV, false);
  assert_false(access(t2, 1, 0x20, NULL));
}

static void test_race_hb_pipe_handoff_silent(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  assert_false(access(t1, 1, 0x10, NULL));
  tw_hb_release(t1, TW_HB_KEY_FD | 7, false); /* write(pipe) */
  tw_hb_acquire(t2, TW_HB_KEY_FD | 7, false); /* read(pipe) returned */
  assert_false(access(t2, 1, 0x20, NULL));
  /* another pipe orders nothing */
  tw_hb_release(t2, TW_HB_KEY_FD | 8, false);
  assert_true(access(t1, 1, 0x11, NULL));
}

static void test_race_hb_rwlock_readers_then_writer(void **state) {
  (void)state;
  int r1 = tw_hb_slot_claim(), r2 = tw_hb_slot_claim(), w = tw_hb_slot_claim();
  tw_hb_acquire(r1, RW, false);
  assert_false(access(r1, 0, 0x10, hold_rw));
  tw_hb_release(r1, RW, true); /* read-unlock */
  tw_hb_acquire(r2, RW, false);
  assert_false(access(r2, 0, 0x20, hold_rw));
  tw_hb_release(r2, RW, true);
  tw_hb_acquire(w, RW, true); /* a write lock comes after the read-unlocks */
  assert_false(access(w, 1, 0x30, hold_rw));
  tw_hb_release(w, RW, false);
}

static void test_race_hb_read_unlock_does_not_order_readers(void **state) {
  (void)state;
  /* a reader does not acquire other readers' read-unlocks: a write done under a read lock (a bug)
   * is not ordered before another reader by the rwlock */
  int r1 = tw_hb_slot_claim(), r2 = tw_hb_slot_claim();
  tw_hb_acquire(r1, RW, false);
  assert_false(access(r1, 1, 0x10, NULL)); /* no lock recorded: lockset cannot hide it */
  tw_hb_release(r1, RW, true);
  tw_hb_acquire(r2, RW, false);
  assert_true(access(r2, 0, 0x20, NULL));
}

static void test_race_hb_forget_drops_the_clock(void **state) {
  (void)state;
  int t1 = tw_hb_slot_claim(), t2 = tw_hb_slot_claim();
  assert_false(access(t1, 1, 0x10, NULL));
  tw_hb_release(t1, M1, false);
  unsigned long before = tw_hb_objects();
  tw_hb_forget(M1); /* pthread_mutex_destroy */
  assert_int_equal(tw_hb_objects(), before - 1);
  tw_hb_acquire(t2, M1, true); /* a new mutex at the same address */
  assert_true(access(t2, 1, 0x20, NULL));
}

/* Claims every slot; returns them in all[] (all of them are taken afterwards). */
static void claim_all(int *all) {
  for (int i = 0; i < TW_RACE_SLOTS; i++) {
    all[i] = tw_hb_slot_claim();
    assert_true(all[i] >= 0);
  }
  assert_int_equal(tw_hb_slot_claim(), -1);
}

static void test_race_hb_slot_reuse_continues_the_clock(void **state) {
  (void)state;
  int all[TW_RACE_SLOTS];
  claim_all(all);
  int s = all[7];
  uint32_t c0 = tw_hb_vc(s)[s];
  tw_hb_release(s, M1, false);
  tw_hb_release(s, M1, false);
  uint32_t c1 = tw_hb_vc(s)[s];
  uint32_t gen = tw_hb_slot_gen(s);
  tw_hb_slot_release(s);
  assert_int_equal(tw_hb_slot_claim(), s); /* the only free one */
  assert_true(tw_hb_vc(s)[s] > c1);
  assert_true(c1 > c0);
  assert_int_equal(tw_hb_slot_gen(s), gen + 1);
  for (int i = 0; i < TW_RACE_SLOTS; i++)
    if (i != s) assert_int_equal(tw_hb_vc(s)[i], 0);
}

static void test_race_hb_slots_go_round(void **state) {
  (void)state;
  /* a released slot is not the next one handed out while others are free */
  int a = tw_hb_slot_claim();
  tw_hb_slot_release(a);
  int b = tw_hb_slot_claim();
  assert_true(b != a);
}

static void test_race_hb_reused_slot_unordered_races(void **state) {
  (void)state;
  int all[TW_RACE_SLOTS];
  claim_all(all);
  int s = all[3];
  assert_false(access(s, 1, 0x10, NULL)); /* the slot's first owner writes, then exits */
  tw_hb_slot_release(s);
  assert_int_equal(tw_hb_slot_claim(), s); /* a new thread gets the same slot */
  assert_true(access(s, 1, 0x20, NULL));   /* nothing orders it after the old owner */
  assert_int_equal(prior.pc, 0x10);
}

static void test_race_hb_reused_slot_ordered_by_join_silent(void **state) {
  (void)state;
  int all[TW_RACE_SLOTS];
  claim_all(all);
  int old = all[3], main_t = all[0];
  assert_false(access(old, 1, 0x10, NULL));
  tw_hb_release(old, TW_HB_KEY_EXIT | 0x70, false); /* it exits ... */
  tw_hb_slot_release(old);
  tw_hb_acquire(main_t, TW_HB_KEY_EXIT | 0x70, false);  /* ... main joins it ... */
  tw_hb_release(main_t, TW_HB_KEY_START | 0x80, false); /* ... and creates another thread */
  int fresh = tw_hb_slot_claim();
  assert_int_equal(fresh, old);
  tw_hb_acquire(fresh, TW_HB_KEY_START | 0x80, false);
  assert_false(access(fresh, 1, 0x20, NULL)); /* after the old owner: no race */
}

static void test_race_hb_slots_run_out(void **state) {
  (void)state;
  int all[TW_RACE_SLOTS];
  claim_all(all);
  tw_hb_slot_release(5);
  assert_int_equal(tw_hb_slot_claim(), 5);
}

static void test_race_hb_pair_once_per_site_pair(void **state) {
  (void)state;
  assert_true(tw_race_pair_first(0, 0x10, 0x20));
  assert_false(tw_race_pair_first(0, 0x10, 0x20));
  assert_false(tw_race_pair_first(0, 0x20, 0x10)); /* either order */
  assert_true(tw_race_pair_first(1, 0x10, 0x20));  /* another range */
  assert_true(tw_race_pair_first(0, 0x10, 0x30));
}

static void test_race_hb_pair_pool(void **state) {
  (void)state;
  uint32_t idx, idx2;
  struct tw_race_pair *p = tw_race_pair_get(&idx);
  assert_non_null(p);
  uint32_t gen = p->gen;
  assert_null(tw_race_pair_at(idx, gen)); /* not ready yet */
  tw_race_pair_ready(p);
  assert_ptr_equal(tw_race_pair_at(idx, gen), p);
  assert_null(tw_race_pair_at(idx, gen + 1)); /* a stale event */
  tw_race_pair_free(p);
  assert_null(tw_race_pair_at(idx, gen));
  for (int i = 0; i < TW_RACE_PAIRS; i++) assert_non_null(tw_race_pair_get(&idx2));
  uint64_t lost = tw_race_pairs_lost();
  assert_null(tw_race_pair_get(&idx2));
  assert_int_equal(tw_race_pairs_lost(), lost + 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_race_hb_unprotected_counter_races, setup),
      cmocka_unit_test_setup(test_race_hb_read_after_unsynchronised_write, setup),
      cmocka_unit_test_setup(test_race_hb_write_after_unsynchronised_read, setup),
      cmocka_unit_test_setup(test_race_hb_reads_never_race, setup),
      cmocka_unit_test_setup(test_race_hb_same_mutex_silent, setup),
      cmocka_unit_test_setup(test_race_hb_lock_on_one_side_only, setup),
      cmocka_unit_test_setup(test_race_hb_different_locks_race, setup),
      cmocka_unit_test_setup(test_race_hb_create_and_join_order, setup),
      cmocka_unit_test_setup(test_race_hb_without_join_races, setup),
      cmocka_unit_test_setup(test_race_hb_condvar_handoff_silent, setup),
      cmocka_unit_test_setup(test_race_hb_signal_alone_orders, setup),
      cmocka_unit_test_setup(test_race_hb_pipe_handoff_silent, setup),
      cmocka_unit_test_setup(test_race_hb_rwlock_readers_then_writer, setup),
      cmocka_unit_test_setup(test_race_hb_read_unlock_does_not_order_readers, setup),
      cmocka_unit_test_setup(test_race_hb_forget_drops_the_clock, setup),
      cmocka_unit_test_setup(test_race_hb_slot_reuse_continues_the_clock, setup),
      cmocka_unit_test_setup(test_race_hb_slots_go_round, setup),
      cmocka_unit_test_setup(test_race_hb_reused_slot_unordered_races, setup),
      cmocka_unit_test_setup(test_race_hb_reused_slot_ordered_by_join_silent, setup),
      cmocka_unit_test_setup(test_race_hb_slots_run_out, setup),
      cmocka_unit_test_setup(test_race_hb_pair_once_per_site_pair, setup),
      cmocka_unit_test_setup(test_race_hb_pair_pool, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
