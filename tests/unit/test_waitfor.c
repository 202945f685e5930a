/* Unit tests for detect/waitfor.c: the wait-for solver on hand-made graphs (no process, no clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "detect/waitfor.h"

/* A caller's node type that carries more than the solver's view (the stride case). */
struct big {
  struct tw_wf_node wf;
  char payload[40];
};

static struct tw_wf_node node(enum tw_wf_rule rule) {
  struct tw_wf_node n;
  memset(&n, 0, sizeof(n));
  n.rule = rule;
  return n;
}

static size_t solve(struct tw_wf_node *n, size_t count, size_t alive, bool untracked,
                    const bool *keep) {
  return tw_waitfor_solve(n, count, sizeof(*n), alive, untracked, keep);
}

static void test_waitfor_two_lock_waits_each_on_the_other_are_stuck(void **state) {
  (void)state;
  struct tw_wf_node n[2] = {node(TW_WF_SOME), node(TW_WF_SOME)};
  tw_wf_add_ender(&n[0], 1);
  tw_wf_add_ender(&n[1], 0);
  assert_int_equal(solve(n, 2, 2, false, NULL), 2);
  assert_true(n[0].stuck && n[1].stuck);
  assert_int_equal(tw_waitfor_next(n, sizeof(n[0]), &n[0]), 1);
  assert_int_equal(tw_waitfor_next(n, sizeof(n[0]), &n[1]), 0);
}

static void test_waitfor_lock_held_by_a_running_thread_is_not_stuck(void **state) {
  (void)state;
  struct tw_wf_node n[2] = {node(TW_WF_SOME), node(TW_WF_NEVER)};
  tw_wf_add_ender(&n[0], 1);
  assert_int_equal(solve(n, 2, 2, false, NULL), 0);
  assert_false(n[0].stuck);
  assert_int_equal(tw_waitfor_next(n, sizeof(n[0]), &n[0]), -1);
}

static void test_waitfor_chain_into_a_cycle_is_stuck_and_a_branch_out_is_not(void **state) {
  (void)state;
  /* 0 -> 1 <-> 2 stuck; 3 waits for 4 which runs. */
  struct tw_wf_node n[5] = {node(TW_WF_SOME), node(TW_WF_SOME), node(TW_WF_SOME), node(TW_WF_SOME),
                            node(TW_WF_NEVER)};
  tw_wf_add_ender(&n[0], 1);
  tw_wf_add_ender(&n[1], 2);
  tw_wf_add_ender(&n[2], 1);
  tw_wf_add_ender(&n[3], 4);
  assert_int_equal(solve(n, 5, 5, false, NULL), 3);
  assert_true(n[0].stuck && n[1].stuck && n[2].stuck);
  assert_false(n[3].stuck);
}

static void test_waitfor_all_rule_needs_every_ender_stuck(void **state) {
  (void)state;
  /* A pipe reader (0) whose two past writers are 1 (stuck on 0) and 2 (running). */
  struct tw_wf_node n[3] = {node(TW_WF_ALL), node(TW_WF_SOME), node(TW_WF_NEVER)};
  tw_wf_add_ender(&n[0], 1);
  tw_wf_add_ender(&n[0], 2);
  tw_wf_add_ender(&n[1], 0);
  assert_int_equal(solve(n, 3, 3, false, NULL), 0);
  n[2].rule = TW_WF_SOME; /* now the second writer waits on the reader too */
  tw_wf_add_ender(&n[2], 0);
  assert_int_equal(solve(n, 3, 3, false, NULL), 3);
  assert_int_equal(tw_waitfor_next(n, sizeof(n[0]), &n[0]), -1); /* two enders: no single next */
}

static void test_waitfor_others_rule_is_stuck_only_when_everyone_is(void **state) {
  (void)state;
  struct tw_wf_node n[2] = {node(TW_WF_OTHERS), node(TW_WF_OTHERS)};
  assert_int_equal(solve(n, 2, 2, false, NULL), 2);
  /* A third live thread that is not in the graph (running): nobody is asleep. */
  assert_int_equal(solve(n, 2, 3, false, NULL), 0);
  /* Threads we do not know may signal. */
  assert_int_equal(solve(n, 2, 2, true, NULL), 0);
}

static void test_waitfor_always_rule_is_stuck_alone(void **state) {
  (void)state;
  struct tw_wf_node n[2] = {node(TW_WF_ALWAYS), node(TW_WF_NEVER)};
  assert_int_equal(solve(n, 2, 2, false, NULL), 1);
  assert_true(n[0].stuck);
}

static void test_waitfor_keep_limits_the_start(void **state) {
  (void)state;
  struct tw_wf_node n[2] = {node(TW_WF_SOME), node(TW_WF_SOME)};
  tw_wf_add_ender(&n[0], 1);
  tw_wf_add_ender(&n[1], 0);
  bool keep[2] = {true, false}; /* 1 left its wait since the first look */
  assert_int_equal(solve(n, 2, 2, false, keep), 0);
}

static void test_waitfor_enders_are_kept_once_and_bounded(void **state) {
  (void)state;
  struct tw_wf_node n = node(TW_WF_ALL);
  tw_wf_add_ender(&n, 3);
  tw_wf_add_ender(&n, 3);
  tw_wf_add_ender(&n, -1);
  assert_int_equal(n.nend, 1);
  for (int i = 0; i < 20; i++) tw_wf_add_ender(&n, 10 + i);
  assert_int_equal(n.nend, TW_WF_MAX_ENDERS);
}

static void test_waitfor_stride_lets_callers_carry_more(void **state) {
  (void)state;
  struct big b[2];
  memset(b, 0x5a, sizeof(b));
  b[0].wf = node(TW_WF_SOME);
  b[1].wf = node(TW_WF_SOME);
  tw_wf_add_ender(&b[0].wf, 1);
  tw_wf_add_ender(&b[1].wf, 0);
  assert_int_equal(tw_waitfor_solve(b, 2, sizeof(b[0]), 2, false, NULL), 2);
  assert_int_equal(tw_waitfor_next(b, sizeof(b[0]), &b[1].wf), 0);
  assert_int_equal((unsigned char)b[1].payload[39], 0x5a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_waitfor_two_lock_waits_each_on_the_other_are_stuck),
      cmocka_unit_test(test_waitfor_lock_held_by_a_running_thread_is_not_stuck),
      cmocka_unit_test(test_waitfor_chain_into_a_cycle_is_stuck_and_a_branch_out_is_not),
      cmocka_unit_test(test_waitfor_all_rule_needs_every_ender_stuck),
      cmocka_unit_test(test_waitfor_others_rule_is_stuck_only_when_everyone_is),
      cmocka_unit_test(test_waitfor_always_rule_is_stuck_alone),
      cmocka_unit_test(test_waitfor_keep_limits_the_start),
      cmocka_unit_test(test_waitfor_enders_are_kept_once_and_bounded),
      cmocka_unit_test(test_waitfor_stride_lets_callers_carry_more),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
