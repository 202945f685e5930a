/* Unit tests for runtime/feeders.c: who posted a semaphore or woke a futex word (no hooks, no
 * threads: events made by hand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/limits.h"
#include "runtime/feeders.h"

static void feed(uintptr_t obj, uint64_t thread) {
  struct tw_event ev = {.type = TW_EV_FEED, .aux = TW_FEED_SEM, .a = obj};
  tw_feeders_on_event(&ev, thread);
}

static void reset(uintptr_t obj) {
  struct tw_event ev = {.type = TW_EV_FEED_RESET, .a = obj};
  tw_feeders_on_event(&ev, 1);
}

static int setup(void **state) {
  (void)state;
  tw_feeders_reset();
  return 0;
}

static void test_feeders_distinct_posters_are_counted_once_each(void **state) {
  (void)state;
  feed(0x1000, 2);
  feed(0x1000, 3);
  feed(0x1000, 2);
  uint64_t ids[TW_FD_FACT_THREADS], last = 0;
  assert_int_equal(tw_feeders_threads(0x1000, ids, TW_FD_FACT_THREADS, &last), 2);
  assert_int_equal(ids[0], 2);
  assert_int_equal(ids[1], 3);
  assert_int_equal(last, 2);
  assert_int_equal(tw_feeders_threads(0x2000, ids, TW_FD_FACT_THREADS, &last), 0);
  assert_int_equal(last, 0);
}

static void test_feeders_past_the_limit_say_more(void **state) {
  (void)state;
  for (uint64_t t = 1; t <= TW_FD_FACT_THREADS + 3; t++) feed(0x3000, t);
  uint64_t ids[TW_FD_FACT_THREADS];
  assert_int_equal(tw_feeders_threads(0x3000, ids, TW_FD_FACT_THREADS, NULL),
                   TW_FD_FACT_THREADS + 1);
}

static void test_feeders_reset_forgets_an_object(void **state) {
  (void)state;
  feed(0x4000, 5);
  feed(0x5000, 6);
  reset(0x4000);
  uint64_t ids[TW_FD_FACT_THREADS];
  assert_int_equal(tw_feeders_threads(0x4000, ids, TW_FD_FACT_THREADS, NULL), 0);
  assert_int_equal(tw_feeders_threads(0x5000, ids, TW_FD_FACT_THREADS, NULL), 1);
  feed(0x4000, 7);
  assert_int_equal(tw_feeders_threads(0x4000, ids, TW_FD_FACT_THREADS, NULL), 1);
  assert_int_equal(ids[0], 7);
}

static void test_feeders_are_bounded_and_forget_the_oldest(void **state) {
  (void)state;
  for (uintptr_t o = 1; o <= TW_FEEDERS_MAX + 10; o++) feed(o * 16, 9);
  uint64_t ids[TW_FD_FACT_THREADS];
  assert_int_equal(tw_feeders_threads(16, ids, TW_FD_FACT_THREADS, NULL), 0);
  assert_int_equal(tw_feeders_threads((TW_FEEDERS_MAX + 10) * 16, ids, TW_FD_FACT_THREADS, NULL), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_feeders_distinct_posters_are_counted_once_each, setup),
      cmocka_unit_test_setup(test_feeders_past_the_limit_say_more, setup),
      cmocka_unit_test_setup(test_feeders_reset_forgets_an_object, setup),
      cmocka_unit_test_setup(test_feeders_are_bounded_and_forget_the_oldest, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
