/* Unit tests for stackdepot.c: interning, retrieval, many stacks, concurrent inserts (also run
 * under TSan), and a real capture with libunwind. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/limits.h"
#include "runtime/stackdepot.h"


/* Each test uses its own range of fake pcs, so the process-wide depot never mixes their stacks. */
#define PC_BASIC 0x100000000000ull
#define PC_MANY 0x200000000000ull
#define PC_CONC 0x300000000000ull
#define PC_DEEP 0x400000000000ull

static void expect_frames(uint32_t id, const uintptr_t *pcs, int n) {
  const uintptr_t *got = NULL;
  int m = tw_depot_get(id, &got);
  if (m != n) fail_msg("stack %u has %d frames, expected %d", id, m, n);
  assert_non_null(got);
  assert_memory_equal(got, pcs, sizeof(*pcs) * (size_t)n);
}

static void test_stackdepot_same_frames_same_id(void **state) {
  (void)state;
  uintptr_t a[] = {PC_BASIC + 0x10, PC_BASIC + 0x20, PC_BASIC + 0x30};
  uintptr_t a_copy[] = {PC_BASIC + 0x10, PC_BASIC + 0x20, PC_BASIC + 0x30};
  uint32_t before = tw_depot_count();
  uint32_t id = tw_depot_put(a, 3);
  assert_int_not_equal(id, 0);
  assert_int_equal(tw_depot_count(), before + 1);
  assert_int_equal(tw_depot_put(a, 3), id);
  assert_int_equal(tw_depot_put(a_copy, 3), id); /* by content, not by address */
  assert_int_equal(tw_depot_count(), before + 1);
}

static void test_stackdepot_different_frames_different_id(void **state) {
  (void)state;
  uintptr_t abc[] = {PC_BASIC + 0x100, PC_BASIC + 0x200, PC_BASIC + 0x300};
  uintptr_t abd[] = {PC_BASIC + 0x100, PC_BASIC + 0x200, PC_BASIC + 0x301};
  uintptr_t ba[] = {PC_BASIC + 0x200, PC_BASIC + 0x100};
  uint32_t ids[] = {
      tw_depot_put(abc, 3), tw_depot_put(abd, 3), tw_depot_put(abc, 2), /* a prefix */
      tw_depot_put(abc, 1), tw_depot_put(ba, 2), /* same frames, other order */
  };
  for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
    assert_int_not_equal(ids[i], 0);
    for (size_t j = 0; j < i; j++)
      if (ids[i] == ids[j]) fail_msg("stacks %zu and %zu share id %u", i, j, ids[i]);
  }
  expect_frames(ids[0], abc, 3);
  expect_frames(ids[1], abd, 3);
  expect_frames(ids[2], abc, 2);
  expect_frames(ids[3], abc, 1);
  expect_frames(ids[4], ba, 2);
}

static void test_stackdepot_empty_stack_is_id_zero(void **state) {
  (void)state;
  uintptr_t a[] = {PC_BASIC + 0x1};
  uint32_t before = tw_depot_count();
  assert_int_equal(tw_depot_put(a, 0), 0);
  assert_int_equal(tw_depot_put(a, -1), 0);
  assert_int_equal(tw_depot_put(NULL, 0), 0);
  assert_int_equal(tw_depot_count(), before);
  const uintptr_t *pcs = NULL;
  assert_int_equal(tw_depot_get(0, &pcs), 0);
}

static void test_stackdepot_get_unknown_id_is_empty(void **state) {
  (void)state;
  uintptr_t a[] = {PC_BASIC + 0x777};
  assert_int_not_equal(tw_depot_put(a, 1), 0); /* the depot exists */
  const uintptr_t *pcs = NULL;
  assert_int_equal(tw_depot_get(UINT32_MAX, &pcs), 0);
  assert_int_equal(tw_depot_get((uint32_t)(tw_depot_bytes() / 8 + 1), &pcs), 0);
}

static void test_stackdepot_deep_stack_keeps_innermost_frames(void **state) {
  (void)state;
  uintptr_t deep[TW_STACK_MAX_FRAMES + 12];
  for (size_t i = 0; i < sizeof(deep) / sizeof(deep[0]); i++) deep[i] = PC_DEEP + i * 4;
  uint32_t id = tw_depot_put(deep, (int)(sizeof(deep) / sizeof(deep[0])));
  assert_int_not_equal(id, 0);
  expect_frames(id, deep, TW_STACK_MAX_FRAMES);
  /* The innermost TW_STACK_MAX_FRAMES frames alone are the same stack. */
  assert_int_equal(tw_depot_put(deep, TW_STACK_MAX_FRAMES), id);
}

/* Stack number i of a family: 1..8 frames, the first one unique to i. */
static int make_stack(uintptr_t base, uint32_t i, uintptr_t *pcs) {
  int n = 1 + (int)(i % 8);
  pcs[0] = base + (uintptr_t)i * 16;
  for (int j = 1; j < n; j++)
    pcs[j] = base + 0x10000000ull + (uintptr_t)((i * 31u + (uint32_t)j) % 4096) * 8;
  return n;
}

#define MANY 100000u

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void test_stackdepot_many_distinct_stacks_retrievable(void **state) {
  (void)state;
  uint32_t *ids = calloc(MANY, sizeof(*ids));
  uint32_t *sorted = calloc(MANY, sizeof(*sorted));
  assert_non_null(ids);
  assert_non_null(sorted);
  uint32_t before = tw_depot_count();
  uint64_t bytes_before = tw_depot_bytes();
  uintptr_t pcs[8];
  for (uint32_t i = 0; i < MANY; i++) {
    int n = make_stack(PC_MANY, i, pcs);
    ids[i] = tw_depot_put(pcs, n);
    if (ids[i] == 0) fail_msg("stack %u not interned", i);
  }
  assert_int_equal(tw_depot_count(), before + MANY);
  assert_true(tw_depot_bytes() > bytes_before + MANY * 16ull);
  for (uint32_t i = 0; i < MANY; i++) {
    int n = make_stack(PC_MANY, i, pcs);
    expect_frames(ids[i], pcs, n);
    if (tw_depot_put(pcs, n) != ids[i]) fail_msg("stack %u changed id", i);
  }
  assert_int_equal(tw_depot_count(), before + MANY); /* the second pass interned nothing */
  memcpy(sorted, ids, MANY * sizeof(*ids));
  qsort(sorted, MANY, sizeof(*sorted), cmp_u32);
  for (uint32_t i = 1; i < MANY; i++)
    if (sorted[i] == sorted[i - 1]) fail_msg("two distinct stacks share id %u", sorted[i]);
  free(ids);
  free(sorted);
}

/* --- concurrent inserts --- */

#define CONC_THREADS 4
/* CONC_STACKS distinct stacks; each thread inserts a window of CONC_PER_THREAD of them, so every
 * stack is inserted by exactly two threads. */
#define CONC_STACKS 40000u
#define CONC_PER_THREAD 20000u

struct conc_arg {
  int t;
  pthread_barrier_t *go;
  uint32_t *ids; /* [CONC_STACKS], 0 where this thread did not insert */
};

static void *conc_worker(void *p) {
  struct conc_arg *a = p;
  uintptr_t pcs[8];
  pthread_barrier_wait(a->go);
  for (uint32_t k = 0; k < CONC_PER_THREAD; k++) {
    /* Odd threads walk their window backwards, so every pair of threads meets head-on somewhere. */
    uint32_t off = (a->t & 1) ? CONC_PER_THREAD - 1 - k : k;
    uint32_t i = ((uint32_t)a->t * (CONC_STACKS / CONC_THREADS) + off) % CONC_STACKS;
    int n = make_stack(PC_CONC, i, pcs);
    a->ids[i] = tw_depot_put(pcs, n);
  }
  return NULL;
}

static void test_stackdepot_concurrent_inserts_consistent_ids(void **state) {
  (void)state;
  pthread_barrier_t go;
  assert_int_equal(pthread_barrier_init(&go, NULL, CONC_THREADS), 0);
  struct conc_arg args[CONC_THREADS];
  pthread_t th[CONC_THREADS];
  for (int t = 0; t < CONC_THREADS; t++) {
    args[t] = (struct conc_arg){t, &go, calloc(CONC_STACKS, sizeof(uint32_t))};
    assert_non_null(args[t].ids);
  }
  for (int t = 0; t < CONC_THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, conc_worker, &args[t]), 0);
  for (int t = 0; t < CONC_THREADS; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
  pthread_barrier_destroy(&go);

  uint32_t *first = calloc(CONC_STACKS, sizeof(uint32_t));
  assert_non_null(first);
  uintptr_t pcs[8];
  uint32_t before = tw_depot_count();
  for (uint32_t i = 0; i < CONC_STACKS; i++) {
    int inserters = 0;
    for (int t = 0; t < CONC_THREADS; t++) {
      uint32_t id = args[t].ids[i];
      if (!id) continue;
      inserters++;
      if (!first[i])
        first[i] = id;
      else if (id != first[i])
        fail_msg("stack %u interned twice: ids %u and %u", i, first[i], id);
    }
    if (inserters != 2) fail_msg("stack %u inserted by %d threads, expected 2", i, inserters);
    int n = make_stack(PC_CONC, i, pcs);
    expect_frames(first[i], pcs, n);
    if (tw_depot_put(pcs, n) != first[i]) fail_msg("stack %u changed id", i);
  }
  assert_int_equal(tw_depot_count(), before); /* every stack was already there */
  qsort(first, CONC_STACKS, sizeof(*first), cmp_u32);
  for (uint32_t i = 1; i < CONC_STACKS; i++)
    if (first[i] == first[i - 1]) fail_msg("two distinct stacks share id %u", first[i]);
  free(first);
  for (int t = 0; t < CONC_THREADS; t++) free(args[t].ids);
}

/* --- capture --- */

static __attribute__((noinline)) uint32_t capture_here(void) {
  uint32_t id = tw_stack_capture();
  __asm__ volatile("" ::: "memory"); /* keep the call from being a tail call */
  return id;
}

static __attribute__((noinline)) uint32_t capture_one_deeper(void) {
  uint32_t id = capture_here();
  __asm__ volatile("" ::: "memory");
  return id;
}

static void test_stackdepot_capture_returns_frames(void **state) {
  (void)state;
  tw__stack_init();
  uint32_t id = capture_here();
  assert_int_not_equal(id, 0);
  const uintptr_t *pcs = NULL;
  int n = tw_depot_get(id, &pcs);
  assert_true(n > 0);
  assert_true(n <= TW_STACK_MAX_FRAMES);
  for (int i = 0; i < n; i++) assert_int_not_equal(pcs[i], 0);
  /* The same call site gives the same stack again. */
  uint32_t ids[2];
  for (int k = 0; k < 2; k++) ids[k] = capture_one_deeper();
  assert_int_not_equal(ids[0], 0);
  assert_int_equal(ids[0], ids[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stackdepot_same_frames_same_id),
      cmocka_unit_test(test_stackdepot_different_frames_different_id),
      cmocka_unit_test(test_stackdepot_empty_stack_is_id_zero),
      cmocka_unit_test(test_stackdepot_get_unknown_id_is_empty),
      cmocka_unit_test(test_stackdepot_deep_stack_keeps_innermost_frames),
      cmocka_unit_test(test_stackdepot_many_distinct_stacks_retrievable),
      cmocka_unit_test(test_stackdepot_concurrent_inserts_consistent_ids),
      cmocka_unit_test(test_stackdepot_capture_returns_frames),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
