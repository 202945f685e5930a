/* Unit tests for suppress.c: parsing suppression files and matching rules against symbolized
 * frames. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "report/suppress.h"

static struct tw_suppressions *parse_ok(const char *text) {
  struct tw_suppressions *s = NULL;
  char err[256] = "";
  int rc = tw_suppress_parse(&s, text, err, sizeof(err));
  if (rc != 0) fail_msg("parse failed (%d): %s\n--- text ---\n%s", rc, err, text);
  assert_non_null(s);
  return s;
}

/* Parses text that must fail; returns the error line in err. */
static void parse_bad(const char *text, char *err, size_t n) {
  static char dummy;
  struct tw_suppressions *const sentinel = (struct tw_suppressions *)(void *)&dummy;
  struct tw_suppressions *s = sentinel; /* must stay untouched on failure */
  err[0] = '\0';
  int rc = tw_suppress_parse(&s, text, err, n);
  if (rc != -EINVAL) fail_msg("parse of bad text returned %d: '%s'", rc, text);
  assert_ptr_equal(s, sentinel);
  assert_true(err[0] != '\0');
}

static const struct tw_frame worker = {
    .pc = 0x401000,
    .function = "worker_main",
    .file = "/src/app/net/worker.c",
    .line = 42,
    .module = "/usr/lib/x86_64-linux-gnu/libfoo.so.1",
};

static const struct tw_frame nodebug = {
    .pc = 0x7f0000001000, .function = "??", .file = NULL, .line = 0, .module = "??"};

static void test_suppress_parse_comments_blanks_and_spaces(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok(
      "# threadwatch suppressions\n"
      "\n"
      "   \t\n"
      "  # an indented comment\n"
      "thread-leak:worker_*\n"
      "  stall :  helper_thread  \n"
      "deadlock:\tlegacy_*\t\r\n"
      "* : libvendor.so*");
  /* Each rule is in force, with surrounding spaces trimmed from kind and pattern. */
  struct tw_frame f = worker;
  assert_true(tw_suppress_match_frame(s, "thread-leak", &f));
  f.function = "helper_thread";
  assert_true(tw_suppress_match_frame(s, "stall", &f));
  f.function = "legacy_lock";
  assert_true(tw_suppress_match_frame(s, "deadlock", &f));
  f = nodebug;
  f.module = "/opt/vendor/libvendor.so.3";
  assert_true(tw_suppress_match_frame(s, "misuse", &f));
  tw_suppress_free(s);
}

static void test_suppress_parse_empty_text(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("");
  assert_false(tw_suppress_match_frame(s, "thread-leak", &worker));
  tw_suppress_free(s);
  s = parse_ok("# only a comment\n\n");
  assert_false(tw_suppress_match_frame(s, "thread-leak", &worker));
  tw_suppress_free(s);
}

static void test_suppress_parse_every_known_kind(void **state) {
  (void)state;
  static const char *const kinds[] = {"thread-leak", "thread-surge", "thread-growth",
                                      "lock-order-cycle", "deadlock", "stall", "misuse",
                                      "race-suspect"};
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    char text[64];
    snprintf(text, sizeof(text), "%s:worker_main\n", kinds[i]);
    struct tw_suppressions *s = parse_ok(text);
    assert_true(tw_suppress_match_frame(s, kinds[i], &worker));
    tw_suppress_free(s);
  }
}

static void test_suppress_pattern_may_contain_colon(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("thread-leak:ns::Worker::*\n");
  struct tw_frame f = worker;
  f.function = "ns::Worker::run()";
  assert_true(tw_suppress_match_frame(s, "thread-leak", &f));
  tw_suppress_free(s);
}

/* `KIND/WHAT:PATTERN` matches reports of that sub-kind only. */
static void test_suppress_subkind_matches_only_its_what(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("stall/condvar:worker_main\nmisuse / unlock-not-owner : *\n");
  assert_int_equal(tw_suppress_match(s, "stall", "condvar", &worker), 0);
  assert_int_equal(tw_suppress_match(s, "stall", "mutex", &worker), -1);
  assert_int_equal(tw_suppress_match(s, "stall", NULL, &worker), -1);
  assert_int_equal(tw_suppress_match(s, "deadlock", "condvar", &worker), -1);
  assert_int_equal(tw_suppress_match(s, "misuse", "unlock-not-owner", &worker), 1);
  assert_int_equal(tw_suppress_match(s, "misuse", "double-join", &worker), -1);
  tw_suppress_free(s);
}

static void test_suppress_error_unknown_subkind_lists_known_ones(void **state) {
  (void)state;
  char err[512];
  parse_bad("stall/condvr:x\n", err, sizeof(err));
  if (!strstr(err, "line 1: unknown sub-kind 'stall/condvr'")) fail_msg("wrong error: %s", err);
  assert_non_null(strstr(err, "condvar"));
  assert_non_null(strstr(err, "lost-wakeup"));
  parse_bad("*/condvar:x\n", err, sizeof(err));
  assert_non_null(strstr(err, "unknown sub-kind"));
  parse_bad("stall/:x\n", err, sizeof(err));
  assert_non_null(strstr(err, "unknown sub-kind"));
}

static char summary[2048];
static void collect_line(const char *text) {
  size_t len = strlen(summary);
  snprintf(summary + len, sizeof(summary) - len, "%s", text);
}

/* Each rule counts the reports it suppressed; the summary names the matched ones (and, verbose,
 * the unmatched ones) with the file's base name and line. */
static void test_suppress_counts_and_summary(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("# header\nthread-leak:worker_*\nstall/condvar:never_*\n");
  int rule = tw_suppress_match(s, "thread-leak", "blocked", &worker);
  assert_int_equal(rule, 0);
  tw_suppress_hit(s, rule);
  tw_suppress_hit(s, rule);
  assert_int_equal(tw_suppress_hits(s, 0), 2);
  assert_int_equal(tw_suppress_hits(s, 1), 0);
  summary[0] = '\0';
  tw_suppress_summary(s, "/etc/app/tw.supp", 42, false, collect_line);
  assert_string_equal(summary,
                      "==42== threadwatch: suppression 'thread-leak:worker_*' (tw.supp:2) matched 2 "
                      "reports\n");
  summary[0] = '\0';
  tw_suppress_summary(s, "/etc/app/tw.supp", 42, true, collect_line);
  assert_non_null(strstr(summary, "==42== threadwatch: suppression 'stall/condvar:never_*' "
                                  "(tw.supp:3) never matched\n"));
  summary[0] = '\0';
  tw_suppress_summary(NULL, "x", 1, true, collect_line);
  assert_string_equal(summary, "");
  tw_suppress_free(s);
}

static void test_suppress_error_missing_colon_has_line_number(void **state) {
  (void)state;
  char err[256];
  parse_bad("thread-leak:ok\nno colon here\n", err, sizeof(err));
  if (!strstr(err, "line 2")) fail_msg("no line number: %s", err);
  assert_non_null(strstr(err, "KIND:PATTERN"));
  assert_non_null(strstr(err, "no colon here"));
}

static void test_suppress_error_unknown_kind_has_line_number(void **state) {
  (void)state;
  char err[256];
  parse_bad("leak:worker_*\n", err, sizeof(err));
  if (!strstr(err, "line 1")) fail_msg("no line number: %s", err);
  assert_non_null(strstr(err, "unknown kind 'leak'"));
  parse_bad("thread-leak:a\nstall:b\nThread-Leak:c\n", err, sizeof(err));
  if (!strstr(err, "line 3")) fail_msg("wrong line number: %s", err);
}

static void test_suppress_error_empty_pattern_has_line_number(void **state) {
  (void)state;
  char err[256];
  parse_bad("thread-leak:a\nstall:   \n", err, sizeof(err));
  if (!strstr(err, "line 2")) fail_msg("no line number: %s", err);
  assert_non_null(strstr(err, "empty pattern"));
  parse_bad("deadlock:", err, sizeof(err));
  assert_non_null(strstr(err, "line 1: empty pattern"));
}

/* The line number in an error counts every line of the file, blank ones included: a user jumps to
 * it in an editor. */
static void test_suppress_error_line_number_counts_blank_lines(void **state) {
  (void)state;
  char err[256];
  parse_bad(
      "# suppressions\n" /* 1 */
      "\n"               /* 2 */
      "thread-leak:ok\n" /* 3 */
      "\n"               /* 4 */
      "bogus\n",         /* 5 */
      err, sizeof(err));
  if (!strstr(err, "line 5:")) fail_msg("expected 'line 5:', got: %s", err);
}

static void test_suppress_error_fits_small_buffer(void **state) {
  (void)state;
  char err[16];
  memset(err, 'x', sizeof(err));
  struct tw_suppressions *s = NULL;
  assert_int_equal(tw_suppress_parse(&s, "nonsense\n", err, sizeof(err)), -EINVAL);
  assert_non_null(memchr(err, '\0', sizeof(err)));
}

static void test_suppress_match_function_glob(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("thread-leak:worker_*\nstall:?elper[0-9]\n");
  assert_true(tw_suppress_match_frame(s, "thread-leak", &worker));
  struct tw_frame f = nodebug;
  f.function = "helper7";
  assert_true(tw_suppress_match_frame(s, "stall", &f));
  f.function = "helper77";
  assert_false(tw_suppress_match_frame(s, "stall", &f));
  f.function = "my_worker_main"; /* globs match the whole name */
  assert_false(tw_suppress_match_frame(s, "thread-leak", &f));
  tw_suppress_free(s);
}

static void test_suppress_match_full_file_path_glob(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("thread-leak:/src/app/*\nstall:*/net/*.c\n");
  assert_true(tw_suppress_match_frame(s, "thread-leak", &worker));
  assert_true(tw_suppress_match_frame(s, "stall", &worker));
  struct tw_frame f = worker;
  f.file = "/other/app/net/worker.h";
  f.function = "x";
  assert_false(tw_suppress_match_frame(s, "thread-leak", &f));
  assert_false(tw_suppress_match_frame(s, "stall", &f));
  tw_suppress_free(s);
}

static void test_suppress_match_file_basename(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("deadlock:worker.c\nstall:work*.c\n");
  assert_true(tw_suppress_match_frame(s, "deadlock", &worker));
  assert_true(tw_suppress_match_frame(s, "stall", &worker));
  struct tw_frame f = worker;
  f.file = "/src/app/net/worker.cc";
  f.function = "x";
  assert_false(tw_suppress_match_frame(s, "deadlock", &f));
  f.file = "worker.c"; /* a file name without a directory */
  assert_true(tw_suppress_match_frame(s, "deadlock", &f));
  tw_suppress_free(s);
}

static void test_suppress_match_module_basename(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("thread-leak:libfoo.so*\n");
  struct tw_frame f = nodebug; /* no symbol, no debug info: only the module is known */
  f.module = "/usr/lib/x86_64-linux-gnu/libfoo.so.1";
  assert_true(tw_suppress_match_frame(s, "thread-leak", &f));
  f.module = "/usr/lib/x86_64-linux-gnu/libbar.so.1";
  assert_false(tw_suppress_match_frame(s, "thread-leak", &f));
  tw_suppress_free(s);
}

static void test_suppress_match_star_kind_matches_every_kind(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("*:worker_main\n");
  static const char *const kinds[] = {"thread-leak", "thread-surge", "thread-growth",
                                      "lock-order-cycle", "deadlock", "stall", "misuse",
                                      "race-suspect"};
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    assert_true(tw_suppress_match_frame(s, kinds[i], &worker));
  tw_suppress_free(s);
}

static void test_suppress_match_other_kind_does_not_match(void **state) {
  (void)state;
  struct tw_suppressions *s = parse_ok("thread-leak:worker_*\nthread-leak:*.c\nthread-leak:lib*\n");
  assert_true(tw_suppress_match_frame(s, "thread-leak", &worker));
  assert_false(tw_suppress_match_frame(s, "deadlock", &worker));
  assert_false(tw_suppress_match_frame(s, "thread-surge", &worker));
  tw_suppress_free(s);
}

static void test_suppress_match_no_rules_or_no_set(void **state) {
  (void)state;
  assert_false(tw_suppress_match_frame(NULL, "thread-leak", &worker));
  struct tw_suppressions *s = parse_ok("stall:nothing_like_it\n");
  assert_false(tw_suppress_match_frame(s, "stall", &worker));
  assert_false(tw_suppress_match_frame(s, "stall", &nodebug)); /* NULL file is not a crash */
  tw_suppress_free(s);
  tw_suppress_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suppress_parse_comments_blanks_and_spaces),
      cmocka_unit_test(test_suppress_parse_empty_text),
      cmocka_unit_test(test_suppress_parse_every_known_kind),
      cmocka_unit_test(test_suppress_pattern_may_contain_colon),
      cmocka_unit_test(test_suppress_subkind_matches_only_its_what),
      cmocka_unit_test(test_suppress_error_unknown_subkind_lists_known_ones),
      cmocka_unit_test(test_suppress_counts_and_summary),
      cmocka_unit_test(test_suppress_error_missing_colon_has_line_number),
      cmocka_unit_test(test_suppress_error_unknown_kind_has_line_number),
      cmocka_unit_test(test_suppress_error_empty_pattern_has_line_number),
      cmocka_unit_test(test_suppress_error_line_number_counts_blank_lines),
      cmocka_unit_test(test_suppress_error_fits_small_buffer),
      cmocka_unit_test(test_suppress_match_function_glob),
      cmocka_unit_test(test_suppress_match_full_file_path_glob),
      cmocka_unit_test(test_suppress_match_file_basename),
      cmocka_unit_test(test_suppress_match_module_basename),
      cmocka_unit_test(test_suppress_match_star_kind_matches_every_kind),
      cmocka_unit_test(test_suppress_match_other_kind_does_not_match),
      cmocka_unit_test(test_suppress_match_no_rules_or_no_set),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
