/* Unit tests for report/profiles.c over synthetic contention records: the block and mutex profiles
 * carry one sample per record with its contentions, delay and object label; the contention table
 * ranks locks by total wait, names them (threadwatch_name_lock), shows waiter and holder stacks,
 * leaves condvar waits out, and says so when nothing was contended; its JSON is one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/out.h"
#include "report/profiles.h"
#include "runtime/calls.h"
#include "runtime/contention.h"
#include "runtime/names.h"
#include "runtime/stackdepot.h"

static struct tw_out out; /* fd -1: the text stays in out.buf */

static const char *rendered(void) {
  assert_true(out.len < sizeof(out.buf));
  out.buf[out.len] = '\0';
  return out.buf;
}

static void test_table_says_when_nothing_was_contended(void **state) {
  (void)state;
  tw_out_init(&out, -1);
  tw_contention_table(&out, false);
  assert_non_null(strstr(rendered(), "threadwatch: contention: no lock was contended"));
  tw_out_init(&out, -1);
  tw_contention_table(&out, true);
  assert_non_null(strstr(rendered(), "\"locks_contended\":0,"));
  assert_non_null(strstr(rendered(), "\"locks\":[]}}\n"));
}

static const uintptr_t hot = 0x7000100, cold = 0x7000200, cv = 0x7000300;

static void feed(void) {
  const uintptr_t waiter[] = {0x401010, 0x402020}, holder[] = {0x403030, 0x402020},
                  other[] = {0x404040, 0x402020};
  uint32_t w = tw_depot_put(waiter, 2), h = tw_depot_put(holder, 2), o = tw_depot_put(other, 2);
  tw_names_set(hot, "hot");
  for (int i = 0; i < 10; i++) tw_contention_add(TW_PROF_BLOCK, TW_WC_MUTEX, hot, w, 1000, 1);
  tw_contention_add(TW_PROF_BLOCK, TW_WC_MUTEX, hot, o, 50000, 1);
  tw_contention_add(TW_PROF_MUTEX, TW_WC_MUTEX, hot, h, 59000, 1);
  tw_contention_add(TW_PROF_BLOCK, TW_WC_MUTEX, cold, w, 300, 2);
  tw_contention_add(TW_PROF_BLOCK, TW_WC_COND, cv, o, 99999999, 1); /* not a lock */
}

static void test_table_ranks_locks_by_total_wait(void **state) {
  (void)state;
  feed();
  tw_out_init(&out, -1);
  tw_contention_table(&out, false);
  const char *t = rendered();
  assert_non_null(strstr(t, "threadwatch: contention: 2 locks were contended, 13 contentions"));
  const char *first = strstr(t, "mutex 0x7000100 \"hot\""), *second = strstr(t, "mutex 0x7000200");
  assert_non_null(first);
  assert_non_null(second);
  assert_true(first < second); /* 60us before 600ns */
  assert_null(strstr(t, "0x7000300")); /* the condvar wait is in the block profile only */
  assert_non_null(strstr(t, "lock #1, mutex 0x7000100 \"hot\":"));
  /* The waiter stacks, largest delay first, then the holder's. */
  const char *w1 = strstr(t, "waited for at (1 contentions, 50.0us)");
  const char *w2 = strstr(t, "waited for at (10 contentions, 10.0us)");
  const char *h1 = strstr(t, "held, released with waiters at (1 unlocks, 59.0us of delay)");
  assert_non_null(w1);
  assert_non_null(w2);
  assert_non_null(h1);
  assert_true(w1 < w2 && w2 < h1);

  tw_out_init(&out, -1);
  tw_contention_table(&out, true);
  const char *j = rendered();
  assert_int_equal(strchr(j, '\n') - j, (long)strlen(j) - 1); /* one line */
  assert_non_null(strstr(j, "\"locks_contended\":2,\"contentions\":13,\"wait_ns\":60600,"));
  assert_non_null(strstr(j, "{\"rank\":1,\"address\":\"0x7000100\",\"kind\":\"mutex\",\"name\":\"hot\""));
  assert_non_null(strstr(j, "\"contentions\":11,\"wait_ns\":60000,\"max_wait_ns\":50000,"
                            "\"unlocks_with_waiters\":1,\"delay_ns\":59000"));
  assert_non_null(strstr(j, "{\"rank\":2,\"address\":\"0x7000200\",\"kind\":\"mutex\",\"name\":\"\""));
  int depth = 0;
  for (const char *c = j; *c; c++) {
    depth += (*c == '{' || *c == '[') - (*c == '}' || *c == ']');
    assert_true(depth >= 0);
  }
  assert_int_equal(depth, 0);
}

static void test_profiles_block_and_mutex_samples(void **state) {
  (void)state;
  struct tw_profile p;
  assert_int_equal(tw_profiles_build(&p, TW_PROFILE_BLOCK), 0);
  assert_string_equal(p.name, "block");
  assert_int_equal(p.ntypes, 2);
  assert_string_equal(p.types[p.default_type].type, "delay");
  assert_non_null(p.comment);
  int64_t contentions = 0, delay = 0;
  bool cond_labelled = false;
  for (size_t i = 0; i < p.n; i++) {
    contentions += p.samples[i].values[0];
    delay += p.samples[i].values[1];
    assert_int_equal(p.samples[i].nlabels, 1);
    assert_string_equal(p.samples[i].labels[0].key, "object");
    cond_labelled |= strcmp(p.samples[i].labels[0].str, "condvar 0x7000300") == 0;
  }
  assert_int_equal(contentions, 10 + 1 + 2 + 1);
  assert_int_equal(delay, 10000 + 50000 + 600 + 99999999);
  assert_true(cond_labelled);
  tw_profile_free(&p);
  assert_int_equal(tw_profiles_build(&p, TW_PROFILE_MUTEX), 0);
  assert_int_equal(p.n, 1);
  assert_int_equal(p.samples[0].values[0], 1);
  assert_int_equal(p.samples[0].values[1], 59000);
  assert_string_equal(p.samples[0].labels[0].str, "mutex 0x7000100 \"hot\"");
  tw_profile_free(&p);
  assert_int_equal(tw_profile_kind_parse("mutex"), TW_PROFILE_MUTEX);
  assert_int_equal(tw_profile_kind_parse("threads"), TW_PROFILE_THREADS);
  assert_int_equal(tw_profile_kind_parse("goroutine"), -1);
  assert_string_equal(tw_profile_kind_name(TW_PROFILE_BLOCK), "block");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_says_when_nothing_was_contended),
      cmocka_unit_test(test_table_ranks_locks_by_total_wait),
      cmocka_unit_test(test_profiles_block_and_mutex_samples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
