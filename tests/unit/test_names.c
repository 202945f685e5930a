/* Unit tests for names.c: lock names of threadwatch_name_lock, set by one writer, read lock-free. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "report/build.h"
#include "runtime/names.h"
#include "report/report.h"

/* Each test uses its own address range: the table is process-wide and never shrinks. */
static uintptr_t addr_of(int test, int i) { return 0x100000u * (uintptr_t)test + 64u * (uintptr_t)i; }

static void expect_name(uintptr_t a, const char *want) {
  char buf[TW_NAME_BYTES];
  bool found = tw_names_get(a, buf, sizeof(buf));
  assert_int_equal(found, want != NULL);
  assert_string_equal(buf, want ? want : "");
}

static void test_names_set_get_rename_forget(void **state) {
  (void)state;
  uintptr_t a = addr_of(1, 0), b = addr_of(1, 1);
  expect_name(a, NULL);
  assert_int_equal(tw_names_set(a, "accounts"), 0);
  assert_int_equal(tw_names_set(b, "queue"), 0);
  expect_name(a, "accounts");
  expect_name(b, "queue");
  assert_int_equal(tw_names_set(a, "ledger"), 0); /* rename */
  expect_name(a, "ledger");
  assert_int_equal(tw_names_set(a, NULL), 0); /* forget */
  expect_name(a, NULL);
  assert_int_equal(tw_names_set(b, ""), 0); /* "" forgets too */
  expect_name(b, NULL);
  assert_int_equal(tw_names_set(addr_of(1, 2), NULL), 0); /* nothing to forget */
  expect_name(addr_of(1, 2), NULL);
  assert_int_equal(tw_names_set(0, "x"), EINVAL);
}

static void test_names_cut_at_47_bytes_and_control_bytes_replaced(void **state) {
  (void)state;
  uintptr_t a = addr_of(2, 0), b = addr_of(2, 1), c = addr_of(2, 2);
  assert_int_equal(tw_names_set(a, "0123456789012345678901234567890123456789012345678901234"), 0);
  expect_name(a, "01234567890123456789012345678901234567890123456");
  assert_int_equal(tw_names_set(b, "tab\there\nnewline\x7f"), 0);
  expect_name(b, "tab?here?newline?");
  /* 45 ASCII bytes, then a 3-byte character that does not fit: dropped whole, not cut. */
  assert_int_equal(tw_names_set(c, "012345678901234567890123456789012345678901234\xe2\x82\xac"), 0);
  expect_name(c, "012345678901234567890123456789012345678901234");
  /* A short buffer gets a cut copy. */
  char small[6];
  assert_true(tw_names_get(a, small, sizeof(small)));
  assert_string_equal(small, "01234");
}

static void test_names_table_grows(void **state) {
  (void)state;
  char name[32];
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof(name), "lock %d", i);
    assert_int_equal(tw_names_set(addr_of(3, i), name), 0);
  }
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof(name), "lock %d", i);
    expect_name(addr_of(3, i), name);
  }
}

static void test_names_describe(void **state) {
  (void)state;
  uintptr_t a = addr_of(4, 0), b = addr_of(4, 1);
  assert_int_equal(tw_names_set(a, "accounts"), 0);
  char buf[96], want[96];
  tw_names_describe(buf, sizeof(buf), "mutex", a);
  snprintf(want, sizeof(want), "mutex %#lx \"accounts\"", (unsigned long)a);
  assert_string_equal(buf, want);
  tw_names_describe(buf, sizeof(buf), "rwlock", b);
  snprintf(want, sizeof(want), "rwlock %#lx", (unsigned long)b);
  assert_string_equal(buf, want);
}

static void test_names_fill_report_leaves_given_names(void **state) {
  (void)state;
  uintptr_t a = addr_of(5, 0), b = addr_of(5, 1), c = addr_of(5, 2);
  assert_int_equal(tw_names_set(a, "alpha"), 0);
  assert_int_equal(tw_names_set(b, "beta"), 0);
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.nlocks = 3;
  r.locks[0].addr = a;
  r.locks[1].addr = b;
  snprintf(r.locks[1].name, sizeof(r.locks[1].name), "class f (x.c:1)"); /* given: kept */
  r.locks[2].addr = c;
  r.nthreads = 1;
  r.threads[0].nlocks_held = 2;
  r.threads[0].locks_held[0].addr = b;
  r.threads[0].locks_held[1].addr = c;
  tw_report_fill_names(&r);
  assert_string_equal(r.locks[0].name, "alpha");
  assert_string_equal(r.locks[1].name, "class f (x.c:1)");
  assert_string_equal(r.locks[2].name, "");
  assert_string_equal(r.threads[0].locks_held[0].name, "beta");
  assert_string_equal(r.threads[0].locks_held[1].name, "");
}

/* One writer renames while readers read: every read is one whole name, never a mix of two. */
#define RACE_ROUNDS 20000
static _Atomic int race_done;

static void *race_reader(void *arg) {
  uintptr_t a = (uintptr_t)arg;
  char buf[TW_NAME_BYTES];
  long bad = 0;
  while (!race_done) {
    if (!tw_names_get(a, buf, sizeof(buf))) continue;
    bad += strcmp(buf, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") != 0 &&
           strcmp(buf, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb") != 0;
  }
  return (void *)bad;
}

static void test_names_readers_never_see_a_mix(void **state) {
  (void)state;
  uintptr_t a = addr_of(6, 0);
  race_done = 0;
  pthread_t t[2];
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, race_reader, (void *)a), 0);
  for (int i = 0; i < RACE_ROUNDS; i++) {
    tw_names_set(a, i & 1 ? "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
                          : "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    if (i % 1000 == 0) tw_names_set(addr_of(6, 1 + i / 1000), "grow"); /* tables replaced too */
  }
  race_done = 1;
  for (int i = 0; i < 2; i++) {
    void *bad;
    pthread_join(t[i], &bad);
    assert_int_equal((long)bad, 0);
  }
}

/* Last: it fills the table. */
static void test_names_refused_past_the_bound(void **state) {
  (void)state;
  int rc = 0, i = 0;
  for (; i < TW_NAMES_MAX + 10 && rc == 0; i++) rc = tw_names_set(addr_of(7, i), "n");
  assert_int_equal(rc, ENOSPC);
  assert_true(i <= TW_NAMES_MAX + 1);
  /* Renaming and forgetting a named address still work. */
  assert_int_equal(tw_names_set(addr_of(7, 0), "renamed"), 0);
  expect_name(addr_of(7, 0), "renamed");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names_set_get_rename_forget),
      cmocka_unit_test(test_names_cut_at_47_bytes_and_control_bytes_replaced),
      cmocka_unit_test(test_names_table_grows),
      cmocka_unit_test(test_names_describe),
      cmocka_unit_test(test_names_fill_report_leaves_given_names),
      cmocka_unit_test(test_names_readers_never_see_a_mix),
      cmocka_unit_test(test_names_refused_past_the_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
