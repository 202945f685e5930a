/* Unit tests for the thread-growth rule (detect/growth.c, tw_growth_rising): a creation site is
 * rising when its last TW_GROWTH_PERIODS steps all rose, to TW_GROWTH_MIN_THREADS or more. A pool
 * that reached its size and stays, a flat or falling step, a small pool, and too short a history
 * are not. */
#include <assert.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/limits.h"
#include "detect/growth.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_growth_rising_leak(void **state) {
  (void)state;
  static_assert(TW_GROWTH_PERIODS == 6 && TW_GROWTH_MIN_THREADS == 16, "the cases below");
  const uint32_t leak[] = {5, 10, 15, 20, 25, 30, 35};
  assert_true(tw_growth_rising(leak, N(leak)));
  const uint32_t by_one[] = {10, 11, 12, 13, 14, 15, 16}; /* slow, but it never stops */
  assert_true(tw_growth_rising(by_one, N(by_one)));
  /* Only the last seven counts matter: an old dip does not hide a leak. */
  const uint32_t after_dip[] = {40, 3, 20, 21, 22, 23, 24, 25};
  assert_true(tw_growth_rising(after_dip, N(after_dip)));
}

static void test_growth_pool_at_its_size_is_not_rising(void **state) {
  (void)state;
  const uint32_t pool[] = {0, 12, 24, 36, 36, 36, 36};
  assert_false(tw_growth_rising(pool, N(pool)));
  const uint32_t ramp_then_flat[] = {10, 20, 30, 40, 50, 60, 60}; /* stopped at the last step */
  assert_false(tw_growth_rising(ramp_then_flat, N(ramp_then_flat)));
  const uint32_t falls_back[] = {20, 30, 40, 50, 45, 60, 70};
  assert_false(tw_growth_rising(falls_back, N(falls_back)));
}

static void test_growth_small_sites_are_not_rising(void **state) {
  (void)state;
  const uint32_t small[] = {9, 10, 11, 12, 13, 14, 15}; /* six rises, below 16 */
  assert_false(tw_growth_rising(small, N(small)));
}

static void test_growth_needs_a_full_window(void **state) {
  (void)state;
  const uint32_t short_history[] = {20, 40, 60, 80, 100, 120}; /* five rises only */
  assert_false(tw_growth_rising(short_history, N(short_history)));
  assert_false(tw_growth_rising(short_history, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_growth_rising_leak),
      cmocka_unit_test(test_growth_pool_at_its_size_is_not_rising),
      cmocka_unit_test(test_growth_small_sites_are_not_rising),
      cmocka_unit_test(test_growth_needs_a_full_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
