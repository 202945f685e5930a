/* Unit tests for elfsym.c: data symbols of this test executable (global and `static`, found in
 * .symtab), functions and thread-locals refused, unknown names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/elfsym.h"

/* Not exported (an executable exports nothing without -rdynamic): only .symtab has them. */
long tw_elfsym_test_global = 1;
static long tw_elfsym_test_static[3];
static __thread int tw_elfsym_test_tls;

/* Keeps the statics alive (and their symbols in .symtab) whatever the optimisation level. */
void *tw_elfsym_test_keep(int i);
void *tw_elfsym_test_keep(int i) {
  return i == 0 ? (void *)&tw_elfsym_test_static : i == 1 ? (void *)&tw_elfsym_test_tls
                                                           : (void *)&tw_elfsym_test_global;
}

static void test_elfsym_finds_global_of_executable(void **state) {
  (void)state;
  struct tw_elfsym s;
  assert_int_equal(tw_elfsym_lookup("tw_elfsym_test_global", &s), 0);
  assert_ptr_equal((void *)s.addr, &tw_elfsym_test_global);
  assert_int_equal(s.size, sizeof(long));
  assert_int_equal(s.local, 0);
}

static void test_elfsym_finds_static_in_symtab(void **state) {
  (void)state;
  struct tw_elfsym s;
  assert_int_equal(tw_elfsym_lookup("tw_elfsym_test_static", &s), 0);
  assert_ptr_equal((void *)s.addr, tw_elfsym_test_keep(0));
  assert_int_equal(s.size, 3 * sizeof(long));
  assert_int_equal(s.local, 1);
}

static void test_elfsym_refuses_function(void **state) {
  (void)state;
  struct tw_elfsym s;
  assert_int_equal(tw_elfsym_lookup("tw_elfsym_test_keep", &s), -EISDIR);
}

static void test_elfsym_refuses_thread_local(void **state) {
  (void)state;
  struct tw_elfsym s;
  assert_int_equal(tw_elfsym_lookup("tw_elfsym_test_tls", &s), -EBADSLT);
}

static void test_elfsym_unknown_name(void **state) {
  (void)state;
  struct tw_elfsym s;
  assert_int_equal(tw_elfsym_lookup("tw_elfsym_no_such_symbol_anywhere", &s), -ENOENT);
}

static void test_elfsym_finds_library_data(void **state) {
  (void)state;
  /* A data symbol of libc that the executable does not copy-relocate. */
  struct tw_elfsym s;
  int rc = tw_elfsym_lookup("__libc_single_threaded", &s);
  assert_int_equal(rc, 0);
  assert_true(s.size == 1);
  assert_non_null(strstr(s.module, "libc"));
}

static void test_elfsym_file_not_elf(void **state) {
  (void)state;
  struct tw_elfsym s;
  assert_int_equal(tw_elfsym_lookup_file("/proc/self/status", 0, "x", &s), -EIO);
  assert_int_equal(tw_elfsym_lookup_file("/nonexistent/file", 0, "x", &s), -EIO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_elfsym_finds_global_of_executable),
      cmocka_unit_test(test_elfsym_finds_static_in_symtab),
      cmocka_unit_test(test_elfsym_refuses_function),
      cmocka_unit_test(test_elfsym_refuses_thread_local),
      cmocka_unit_test(test_elfsym_unknown_name),
      cmocka_unit_test(test_elfsym_finds_library_data),
      cmocka_unit_test(test_elfsym_file_not_elf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
