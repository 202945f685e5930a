/* Unit tests for race.c: THREADWATCH_WATCH's syntax (names and 0xADDR:LEN, clear errors) and how a
 * range is cut into the aligned 1/2/4/8-byte pieces that debug registers watch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "race/state.h"

static void test_race_spec_names_and_ranges(void **state) {
  (void)state;
  struct tw_race_item it[4];
  char err[512] = "";
  int n = tw__race_parse_spec("counter,0x7f00001000:8,_ZN2ns5totalE", it, 4, err, sizeof(err));
  assert_int_equal(n, 3);
  assert_string_equal(it[0].sym, "counter");
  assert_string_equal(it[1].sym, "");
  assert_int_equal(it[1].addr, 0x7f00001000ull);
  assert_int_equal(it[1].len, 8);
  assert_string_equal(it[2].sym, "_ZN2ns5totalE");
}

static void test_race_spec_bad_items_name_the_variable(void **state) {
  (void)state;
  static const char *bad[] = {"0x10",     "0x10:",    "0x10:0",      "0x:8",      "0xzz:8",
                              "9lives",   "a b",      "x,,y",        "x,",        "0x10:8x",
                              "0:8",      "0x0:8",    "counter:8",   "0x10:99999999999"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct tw_race_item it[4];
    char err[512] = "";
    int n = tw__race_parse_spec(bad[i], it, 4, err, sizeof(err));
    if (n != -EINVAL) fail_msg("'%s' parsed (%d)", bad[i], n);
    assert_non_null(strstr(err, "THREADWATCH_WATCH="));
    assert_non_null(strstr(err, "0xADDR:LEN"));
    assert_null(strchr(err, '\n'));
  }
}

static void test_race_spec_too_many_items(void **state) {
  (void)state;
  struct tw_race_item it[2];
  char err[512] = "";
  assert_int_equal(tw__race_parse_spec("a,b,c", it, 2, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "more than 2"));
}

static void test_race_spec_pieces(void **state) {
  (void)state;
  uintptr_t pa[8];
  uint32_t pl[8];
  assert_int_equal(tw__race_pieces_of(0x1000, 8, pa, pl, 8), 1);
  assert_int_equal(pl[0], 8);
  assert_int_equal(tw__race_pieces_of(0x1004, 4, pa, pl, 8), 1); /* an int */
  assert_int_equal(pl[0], 4);
  /* 12 bytes from an odd address: aligned pieces, each as large as fits */
  int n = tw__race_pieces_of(0x1001, 12, pa, pl, 8);
  uint32_t total = 0;
  for (int i = 0; i < n; i++) {
    assert_int_equal(pa[i] % pl[i], 0);
    total += pl[i];
    if (i) assert_int_equal(pa[i], pa[i - 1] + pl[i - 1]);
  }
  assert_int_equal(total, 12);
  assert_int_equal(n, 5); /* 0x1001:1 0x1002:2 0x1004:4 0x1008:4 0x100c:1 */
  assert_int_equal(pl[4], 1);
}

static void test_race_spec_pieces_count_beyond_max(void **state) {
  (void)state;
  uintptr_t pa[4];
  uint32_t pl[4];
  assert_int_equal(tw__race_pieces_of(0x1000, 64, pa, pl, 4), 8); /* needs 8 registers */
  assert_int_equal(pa[3], 0x1018);
}

static void test_race_spec_sig_data_round_trip(void **state) {
  (void)state;
  unsigned piece, gen;
  for (unsigned g = 0; g < 600; g += 7) {
    for (unsigned p = 0; p < TW_RACE_DEBUG_REGS; p++) {
      uint64_t d = tw_race_sig_data(p, g);
      assert_true(tw_race_sig_parse(d, &piece, &gen));
      assert_int_equal(piece, p);
      assert_int_equal(gen, g & 0xff);
    }
  }
  assert_false(tw_race_sig_parse(0x1234, &piece, &gen)); /* someone else's sig_data */
  assert_false(tw_race_sig_parse(TW_RACE_SIG_MAGIC ^ (1ull << 40), &piece, &gen));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_race_spec_names_and_ranges),
      cmocka_unit_test(test_race_spec_bad_items_name_the_variable),
      cmocka_unit_test(test_race_spec_too_many_items),
      cmocka_unit_test(test_race_spec_pieces),
      cmocka_unit_test(test_race_spec_pieces_count_beyond_max),
      cmocka_unit_test(test_race_spec_sig_data_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
