/* Unit tests of the lock-order graph fed synthetic edge observations: no threads, no preload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "detect/lockgraph.h"

static struct tw_report rep;

/* Thread `t` took lock `to` while holding `from` (mutexes, no gate). */
static bool edge(struct tw_lockgraph *g, uint64_t t, uintptr_t from, uintptr_t to) {
  struct tw_edge_obs o = {.from = from, .to = to, .thread = t};
  return tw_lockgraph_add(g, &o, &rep);
}

static bool edge_gated(struct tw_lockgraph *g, uint64_t t, uintptr_t from, uintptr_t to,
                       uintptr_t gate) {
  struct tw_edge_obs o = {.from = from, .to = to, .thread = t, .gate = gate};
  return tw_lockgraph_add(g, &o, &rep);
}

static bool rw_edge(struct tw_lockgraph *g, uint64_t t, uintptr_t from, uint8_t from_mode,
                    uintptr_t to, uint8_t to_mode) {
  struct tw_edge_obs o = {.from = from, .to = to, .thread = t, .from_mode = from_mode,
                          .to_mode = to_mode, .from_kind = TW_LK_RWLOCK, .to_kind = TW_LK_RWLOCK};
  return tw_lockgraph_add(g, &o, &rep);
}

#define A 0x1000
#define B 0x2000
#define C 0x3000
#define D 0x4000
#define E 0x5000
#define G 0x9000

static void test_lockgraph_two_lock_cycle_reported_with_both_edges(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(edge(g, 2, A, B));
  assert_true(edge(g, 3, B, A));
  assert_string_equal(rep.kind, "lock-order-cycle");
  assert_int_equal(rep.nlocks, 2);
  assert_int_equal(rep.nedges, 2);
  assert_int_equal(rep.cycle_len, 2);
  /* The cycle starts at its oldest edge (A -> B by T2): M1 = A; both edge threads are named. */
  assert_int_equal(rep.locks[0].addr, A);
  assert_int_equal(rep.locks[1].addr, B);
  assert_int_equal(rep.edges[0].thread, 2);
  assert_int_equal(rep.edges[1].thread, 3);
  assert_int_equal(rep.count, 2);
  assert_non_null(strstr(rep.message, "potential deadlock"));
  assert_true(rep.hint[0] != '\0');
  tw_lockgraph_free(g);
}

static void test_lockgraph_consistent_order_is_silent(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  for (uint64_t t = 1; t <= 50; t++) {
    assert_false(edge(g, t, A, B));
    assert_false(edge(g, t, B, C));
    assert_false(edge(g, t, A, C));
  }
  tw_lockgraph_free(g);
}

static void test_lockgraph_three_lock_cycle(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(edge(g, 2, A, B));
  assert_false(edge(g, 3, B, C));
  assert_true(edge(g, 4, C, A));
  assert_int_equal(rep.nlocks, 3);
  /* The cycle in order: each edge leads from lock i to lock i+1. */
  for (uint32_t i = 0; i < 3; i++) assert_int_equal(rep.edges[i].to, (i + 1) % 3);
  assert_int_equal(rep.locks[0].addr, A);
  assert_int_equal(rep.locks[1].addr, B);
  assert_int_equal(rep.locks[2].addr, C);
  assert_int_equal(rep.edges[0].thread, 2);
  assert_int_equal(rep.edges[2].thread, 4);
  tw_lockgraph_free(g);
}

static void test_lockgraph_five_lock_cycle_in_any_insertion_order(void **state) {
  (void)state;
  /* Edges arriving out of order force the topological order to be repaired (Pearce-Kelly). */
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(edge(g, 5, D, E));
  assert_false(edge(g, 3, B, C));
  assert_false(edge(g, 2, A, B));
  assert_false(edge(g, 4, C, D));
  assert_true(edge(g, 6, E, A));
  assert_int_equal(rep.cycle_len, 5);
  assert_int_equal(rep.count, 5);
  /* Starting at the oldest edge (D -> E by T5), each edge leads to the next lock. */
  assert_int_equal(rep.locks[0].addr, D);
  assert_int_equal(rep.edges[0].thread, 5);
  for (uint32_t i = 0; i < 5; i++) assert_int_equal(rep.edges[i].to, (i + 1) % 5);
  assert_int_equal(rep.locks[1].addr, E);
  assert_int_equal(rep.locks[2].addr, A);
  tw_lockgraph_free(g);
}

static void test_lockgraph_cycle_reported_once(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(edge(g, 2, A, B));
  assert_true(edge(g, 3, B, A));
  assert_false(edge(g, 4, B, A)); /* the same order again, another thread */
  assert_false(edge(g, 5, A, B));
  struct tw_lockgraph_stats s;
  tw_lockgraph_stats(g, &s);
  assert_int_equal(s.cycles_reported, 1);
  tw_lockgraph_free(g);
}

static void test_lockgraph_gate_lock_cycle_not_reported(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(edge_gated(g, 2, A, B, G));
  assert_false(edge_gated(g, 3, B, A, G)); /* both under G: cannot deadlock */
  struct tw_lockgraph_stats s;
  tw_lockgraph_stats(g, &s);
  assert_int_equal(s.cycles_gated, 1);
  assert_int_equal(s.cycles_reported, 0);
  /* The same inversion once without the gate is a real potential deadlock. */
  assert_true(edge(g, 4, B, A));
  tw_lockgraph_free(g);
}

static void test_lockgraph_different_gates_do_not_protect(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(edge_gated(g, 2, A, B, G));
  assert_true(edge_gated(g, 3, B, A, G + 0x100));
  tw_lockgraph_free(g);
}

static void test_lockgraph_destroyed_lock_forgets_edges(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(edge(g, 2, A, B));
  /* A destroyed; a new lock is initialised at the same address. Forgetting says whether the
   * address was in the graph (a fresh lock's identity check makes caches stale only then). */
  assert_true(tw_lockgraph_forget(g, A));
  assert_false(tw_lockgraph_forget(g, A));
  assert_false(tw_lockgraph_forget(g, C));
  assert_false(edge(g, 3, B, A));
  struct tw_lockgraph_stats s;
  tw_lockgraph_stats(g, &s);
  assert_int_equal(s.edges, 1);
  /* The forgotten node's slot is reused and the graph stays consistent. */
  tw_lockgraph_forget(g, B);
  assert_false(edge(g, 4, C, A));
  assert_true(edge(g, 5, A, C));
  tw_lockgraph_free(g);
}

static void test_lockgraph_read_read_cycle_not_reported(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(rw_edge(g, 2, A, TW_LM_READ, B, TW_LM_READ));
  assert_false(rw_edge(g, 3, B, TW_LM_READ, A, TW_LM_READ));
  /* Held for reading, wanted for reading on the other side: still no conflict. */
  assert_false(rw_edge(g, 4, A, TW_LM_WRITE, B, TW_LM_READ));
  assert_false(rw_edge(g, 5, B, TW_LM_READ, A, TW_LM_WRITE));
  tw_lockgraph_free(g);
}

static void test_lockgraph_write_write_rwlock_cycle_reported(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(rw_edge(g, 2, A, TW_LM_WRITE, B, TW_LM_WRITE));
  assert_true(rw_edge(g, 3, B, TW_LM_WRITE, A, TW_LM_WRITE));
  tw_lockgraph_free(g);
}

static void test_lockgraph_read_held_write_wanted_cycle_reported(void **state) {
  (void)state;
  /* Each holds one for reading and wants the other for writing: a real deadlock. */
  struct tw_lockgraph *g = tw_lockgraph_new();
  assert_false(rw_edge(g, 2, A, TW_LM_READ, B, TW_LM_WRITE));
  assert_true(rw_edge(g, 3, B, TW_LM_READ, A, TW_LM_WRITE));
  tw_lockgraph_free(g);
}

static void test_lockgraph_long_cycle_is_cut_and_says_so(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  const uint32_t n = 40;
  for (uint32_t i = 0; i + 1 < n; i++) assert_false(edge(g, 2, 0x10000 + i * 64, 0x10000 + (i + 1) * 64));
  assert_true(edge(g, 3, 0x10000 + (n - 1) * 64, 0x10000));
  assert_int_equal(rep.cycle_len, n);
  assert_int_equal(rep.nlocks, TW_REPORT_MAX_CYCLE);
  tw_lockgraph_free(g);
}

static void test_lockgraph_million_nodes_under_bucket_locks(void **state) {
  (void)state;
  /* One million locks, each taken under one of 64 bucket locks: every edge is new, none closes a
   * cycle, and each insertion is O(1) because the new node is ordered last. */
  struct tw_lockgraph *g = tw_lockgraph_new();
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (uintptr_t i = 0; i < 1000000; i++) {
    struct tw_edge_obs o = {.from = 0x100 + (i % 64) * 64, .to = 0x1000000 + i * 64, .thread = 2};
    assert_false(tw_lockgraph_add(g, &o, &rep));
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  struct tw_lockgraph_stats s;
  tw_lockgraph_stats(g, &s);
  assert_int_equal(s.nodes, 1000064);
  assert_int_equal(s.edges, 1000000);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  print_message("1M nodes/edges: %.2f s, %.1f MiB (%.0f bytes per edge incl. its node)\n", secs,
                (double)s.bytes / (1 << 20), (double)s.bytes / 1e6);
  /* A closing edge into a bucket lock still finds the cycle among a million nodes. */
  struct tw_edge_obs back = {.from = 0x1000000 + 5 * 64, .to = 0x100 + 5 * 64, .thread = 3};
  assert_true(tw_lockgraph_add(g, &back, &rep));
  tw_lockgraph_free(g);
}

static void test_lockgraph_backward_insertions_reorder_correctly(void **state) {
  (void)state;
  /* A chain inserted from its end to its start: every insertion repairs the order. A closing edge
   * anywhere is then found. */
  struct tw_lockgraph *g = tw_lockgraph_new();
  const uintptr_t n = 2000;
  for (uintptr_t i = n - 1; i > 0; i--) assert_false(edge(g, 2, 0x100000 + (i - 1) * 64, 0x100000 + i * 64));
  assert_true(edge(g, 3, 0x100000 + 1500 * 64, 0x100000 + 700 * 64));
  assert_int_equal(rep.cycle_len, 801);
  tw_lockgraph_free(g);
}

static void test_lockgraph_names_locks(void **state) {
  (void)state;
  struct tw_lockgraph *g = tw_lockgraph_new();
  tw_lockgraph_name(g, A, "accounts");
  assert_false(edge(g, 2, A, B));
  assert_true(edge(g, 3, B, A));
  assert_string_equal(rep.locks[0].name, "accounts");
  assert_string_equal(rep.locks[1].name, "");
  tw_lockgraph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lockgraph_two_lock_cycle_reported_with_both_edges),
      cmocka_unit_test(test_lockgraph_consistent_order_is_silent),
      cmocka_unit_test(test_lockgraph_three_lock_cycle),
      cmocka_unit_test(test_lockgraph_five_lock_cycle_in_any_insertion_order),
      cmocka_unit_test(test_lockgraph_cycle_reported_once),
      cmocka_unit_test(test_lockgraph_gate_lock_cycle_not_reported),
      cmocka_unit_test(test_lockgraph_different_gates_do_not_protect),
      cmocka_unit_test(test_lockgraph_destroyed_lock_forgets_edges),
      cmocka_unit_test(test_lockgraph_read_read_cycle_not_reported),
      cmocka_unit_test(test_lockgraph_write_write_rwlock_cycle_reported),
      cmocka_unit_test(test_lockgraph_read_held_write_wanted_cycle_reported),
      cmocka_unit_test(test_lockgraph_long_cycle_is_cut_and_says_so),
      cmocka_unit_test(test_lockgraph_million_nodes_under_bucket_locks),
      cmocka_unit_test(test_lockgraph_backward_insertions_reorder_correctly),
      cmocka_unit_test(test_lockgraph_names_locks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
