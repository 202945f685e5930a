/* Unit tests for options.c: every typed parser, the environment parser, "did you mean", %p
 * expansion, and the README option table kept in step with options.inc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/options.h"

#define NS_PER_S 1000000000ull

/* --- typed parsers --- */

static uint64_t dur_ok(const char *s) {
  uint64_t v = 0xdeadbeefull;
  int rc = tw__parse_duration(s, &v);
  if (rc != 0) fail_msg("tw__parse_duration(\"%s\") = %d, expected 0", s, rc);
  return v;
}

static void dur_bad(const char *s) {
  uint64_t v = 0;
  int rc = tw__parse_duration(s, &v);
  if (rc != -EINVAL) fail_msg("tw__parse_duration(\"%s\") = %d, expected -EINVAL", s, rc);
}

static void test_options_duration_accepts_units(void **state) {
  (void)state;
  assert_int_equal(dur_ok("500ms"), 500ull * 1000000ull);
  assert_int_equal(dur_ok("10s"), 10ull * NS_PER_S);
  assert_int_equal(dur_ok("30m"), 30ull * 60ull * NS_PER_S);
  assert_int_equal(dur_ok("1h"), 3600ull * NS_PER_S);
  assert_int_equal(dur_ok("1.5s"), 1500000000ull);
  assert_int_equal(dur_ok("0"), 0);
  assert_int_equal(dur_ok("0s"), 0);
  assert_int_equal(dur_ok("250us"), 250000ull);
  assert_int_equal(dur_ok("7ns"), 7ull);
  assert_int_equal(dur_ok("1.5m"), 90ull * NS_PER_S);
  assert_int_equal(dur_ok("2.5h"), 9000ull * NS_PER_S);
  assert_int_equal(dur_ok("1.123456789s"), 1123456789ull);
}

static void test_options_duration_rejects_malformed(void **state) {
  (void)state;
  dur_bad("abc");
  dur_bad("10"); /* a unit is required (except for a bare 0) */
  dur_bad("-1s");
  dur_bad("10 s");
  dur_bad(" 10s");
  dur_bad("10s ");
  dur_bad("");
  dur_bad("s");
  dur_bad(".5s");
  dur_bad("1.s");
  dur_bad("1.5");
  dur_bad("10sec");
  dur_bad("10S");
  dur_bad("1d");
  dur_bad("00");
}

static void test_options_duration_rejects_overflow(void **state) {
  (void)state;
  dur_bad("99999999999h");
  dur_bad("1000000000h"); /* 3.6e21 ns does not fit in 64 bits */
  dur_bad("5124096h");    /* just past UINT64_MAX ns */
  dur_bad("99999999999999999999999999s");
  /* The largest whole hour count that fits still parses. */
  assert_int_equal(dur_ok("5124095h"), 5124095ull * 3600ull * NS_PER_S);
}

/* A fraction with many digits in a large unit must not overflow the intermediate product:
 * 0.999999999h is 3599999996400 ns, not a wrapped-around value. */
static void test_options_duration_keeps_fraction_precision(void **state) {
  (void)state;
  assert_int_equal(dur_ok("0.999999999m"), 59999999940ull);
  assert_int_equal(dur_ok("0.999999999h"), 3599999996400ull);
  assert_int_equal(dur_ok("1.25h"), 4500ull * NS_PER_S);
}

static void test_options_exitcode_range(void **state) {
  (void)state;
  static const struct {
    const char *s;
    unsigned v;
  } ok[] = {{"0", 0}, {"1", 1}, {"66", 66}, {"255", 255}};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    unsigned v = 999;
    assert_int_equal(tw__parse_exitcode(ok[i].s, &v), 0);
    assert_int_equal(v, ok[i].v);
  }
  static const char *const bad[] = {
      "256", "-1", "x", "", " 1", "1 ", "1x", "0x10", "99999999999999999999"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    unsigned v = 0;
    if (tw__parse_exitcode(bad[i], &v) != -EINVAL) fail_msg("exitcode \"%s\" accepted", bad[i]);
  }
}

static void test_options_count_rejects_zero_and_negative(void **state) {
  (void)state;
  unsigned v = 0;
  assert_int_equal(tw__parse_count("1", &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(tw__parse_count("5000", &v), 0);
  assert_int_equal(v, 5000);
  assert_int_equal(tw__parse_count("100000000", &v), 0);
  assert_int_equal(v, 100000000);
  static const char *const bad[] = {"0", "-1", "", "x", "100000001", "4294967296", "1.5", "+3"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (tw__parse_count(bad[i], &v) != -EINVAL) fail_msg("count \"%s\" accepted", bad[i]);
  }
}

static void test_options_deadlock_report_or_abort(void **state) {
  (void)state;
  int v = -1;
  assert_int_equal(tw__parse_deadlock("report", &v), 0);
  assert_int_equal(v, TW_ON_DEADLOCK_REPORT);
  assert_int_equal(tw__parse_deadlock("abort", &v), 0);
  assert_int_equal(v, TW_ON_DEADLOCK_ABORT);
  static const char *const bad[] = {"", "Report", "ABORT", "abort ", "reports", "0", "1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (tw__parse_deadlock(bad[i], &v) != -EINVAL) fail_msg("deadlock \"%s\" accepted", bad[i]);
  }
}

static void test_options_profile_block_mutex_list(void **state) {
  (void)state;
  int v = -1;
  assert_int_equal(tw__parse_profile("", &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(tw__parse_profile("block", &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(tw__parse_profile("mutex", &v), 0);
  assert_int_equal(v, 2);
  assert_int_equal(tw__parse_profile("block,mutex", &v), 0);
  assert_int_equal(v, 3);
  assert_int_equal(tw__parse_profile("mutex,block,mutex", &v), 0);
  assert_int_equal(v, 3);
  static const char *const bad[] = {"Block", "cpu", "block,", ",mutex", "block,,mutex", "1",
                                    "block mutex", "threads"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (tw__parse_profile(bad[i], &v) != -EINVAL) fail_msg("profile \"%s\" accepted", bad[i]);
  }
}

static void test_options_bool_zero_or_one(void **state) {
  (void)state;
  bool v = false;
  assert_int_equal(tw__parse_bool("1", &v), 0);
  assert_true(v);
  assert_int_equal(tw__parse_bool("0", &v), 0);
  assert_false(v);
  static const char *const bad[] = {"", "true", "false", "yes", "2", "01", "-1", " 1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (tw__parse_bool(bad[i], &v) != -EINVAL) fail_msg("bool \"%s\" accepted", bad[i]);
  }
}

static void test_options_list_rejects_empty_items(void **state) {
  (void)state;
  char v[TW_OPT_STR_MAX];
  assert_int_equal(tw__parse_list("", v), 0);
  assert_string_equal(v, "");
  assert_int_equal(tw__parse_list("a", v), 0);
  assert_string_equal(v, "a");
  assert_int_equal(tw__parse_list("counter,0x1000:8", v), 0);
  assert_string_equal(v, "counter,0x1000:8");
  static const char *const bad[] = {",a", "a,", "a,,b", ",", ",,"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (tw__parse_list(bad[i], v) != -EINVAL) fail_msg("list \"%s\" accepted", bad[i]);
  }
}

static void test_options_path_copies_and_bounds(void **state) {
  (void)state;
  char v[TW_OPT_STR_MAX];
  assert_int_equal(tw__parse_path("stderr", v), 0);
  assert_string_equal(v, "stderr");
  assert_int_equal(tw__parse_path("/tmp/tw.%p.log", v), 0);
  assert_string_equal(v, "/tmp/tw.%p.log");
  assert_int_equal(tw__parse_path("", v), 0);
  assert_string_equal(v, "");
  assert_int_equal(tw__parse_path("a\nb", v), -EINVAL);

  char longest[TW_OPT_STR_MAX];
  memset(longest, 'x', sizeof(longest) - 1);
  longest[sizeof(longest) - 1] = '\0';
  assert_int_equal(tw__parse_path(longest, v), 0);
  assert_string_equal(v, longest);
  char too_long[TW_OPT_STR_MAX + 1];
  memset(too_long, 'x', sizeof(too_long) - 1);
  too_long[sizeof(too_long) - 1] = '\0';
  assert_int_equal(tw__parse_path(too_long, v), -EINVAL);
}

/* --- tw__options_parse --- */

/* The accepted form the table states for THREADWATCH_<name>, or NULL. */
static const char *form_of(const char *name) {
  const char *n, *type, *def, *desc, *form;
  for (size_t i = 0; tw__options_entry(i, &n, &type, &def, &desc, &form) == 0; i++)
    if (strcmp(n, name) == 0) return form;
  return NULL;
}

static void test_options_parse_defaults_when_empty(void **state) {
  (void)state;
  static struct tw_options o;
  char err[256] = "", warn[256] = "x";
  char *const envp[] = {NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_string_equal(warn, "");
  assert_string_equal(o.log, "stderr");
  assert_string_equal(o.json, "");
  assert_int_equal(o.exitcode, 66);
  assert_int_equal(o.stall_ns, 10ull * NS_PER_S);
  assert_int_equal(o.max_threads, 5000);
  assert_int_equal(o.interval_ns, 0);
  assert_int_equal(o.on_deadlock, TW_ON_DEADLOCK_REPORT);
  assert_string_equal(o.suppress, "");
  assert_string_equal(o.watch, "");
  assert_false(o.leak_detached);

  /* A NULL environment is the same as an empty one. */
  static struct tw_options o2;
  assert_int_equal(tw__options_parse(&o2, NULL, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_memory_equal(&o, &o2, sizeof(o));
}

static void test_options_parse_sets_values(void **state) {
  (void)state;
  static struct tw_options o;
  char err[256] = "", warn[256] = "";
  char *const envp[] = {"THREADWATCH_EXITCODE=7",
                        "THREADWATCH_STALL=500ms",
                        "THREADWATCH_MAX_THREADS=12",
                        "THREADWATCH_ON_DEADLOCK=abort",
                        "THREADWATCH_LEAK_DETACHED=1",
                        "THREADWATCH_JSON=/tmp/tw.%p.json",
                        "THREADWATCH_WATCH=a,b",
                        "THREADWATCH_INTERVAL=1m",
                        "THREADWATCH_EXITCODE=9", /* the last one wins, as with setenv */
                        NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_string_equal(warn, "");
  assert_int_equal(o.exitcode, 9);
  assert_int_equal(o.stall_ns, 500000000ull);
  assert_int_equal(o.max_threads, 12);
  assert_int_equal(o.on_deadlock, TW_ON_DEADLOCK_ABORT);
  assert_true(o.leak_detached);
  assert_string_equal(o.json, "/tmp/tw.%p.json");
  assert_string_equal(o.watch, "a,b");
  assert_int_equal(o.interval_ns, 60ull * NS_PER_S);
  assert_string_equal(o.log, "stderr"); /* untouched options keep their defaults */
}

static void test_options_parse_bad_value_names_variable_and_form(void **state) {
  (void)state;
  static struct tw_options o;
  char err[512] = "", warn[256] = "";
  char *const envp[] = {"THREADWATCH_EXITCODE=3", "THREADWATCH_STALL=10", NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), -EINVAL);
  const char *form = form_of("STALL");
  assert_non_null(form);
  if (!strstr(err, "THREADWATCH_STALL")) fail_msg("error does not name the variable: %s", err);
  if (!strstr(err, form)) fail_msg("error does not state the accepted form '%s': %s", form, err);
  if (!strstr(err, "'10'")) fail_msg("error does not quote the bad value: %s", err);
  assert_null(strchr(err, '\n')); /* one line; the loader adds the newline */

  char *const envp2[] = {"THREADWATCH_MAX_THREADS=0", NULL};
  assert_int_equal(tw__options_parse(&o, envp2, err, sizeof(err), warn, sizeof(warn)), -EINVAL);
  assert_non_null(strstr(err, "THREADWATCH_MAX_THREADS"));
  assert_non_null(strstr(err, form_of("MAX_THREADS")));

  char *const envp3[] = {"THREADWATCH_ON_DEADLOCK=panic", NULL};
  assert_int_equal(tw__options_parse(&o, envp3, err, sizeof(err), warn, sizeof(warn)), -EINVAL);
  assert_non_null(strstr(err, "THREADWATCH_ON_DEADLOCK"));
  assert_non_null(strstr(err, form_of("ON_DEADLOCK")));
}

static void test_options_parse_unknown_name_warns_did_you_mean(void **state) {
  (void)state;
  static struct tw_options o;
  char err[256] = "", warn[512] = "";
  char *const envp[] = {"THREADWATCH_STAL=1", "THREADWATCH_EXITCODE=5", NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), 0);
  if (!strstr(warn, "did you mean THREADWATCH_STALL"))
    fail_msg("no suggestion in the warning: '%s'", warn);
  assert_non_null(strstr(warn, "THREADWATCH_STAL "));
  assert_int_equal(o.exitcode, 5);                /* later variables are still read */
  assert_int_equal(o.stall_ns, 10ull * NS_PER_S); /* the typo changed nothing */

  /* Several unknown names give one line each; a far-off name gets no suggestion. */
  char *const envp2[] = {"THREADWATCH_EXITCOD=1", "THREADWATCH_NOTHING_LIKE_ANY_OPTION=1", NULL};
  assert_int_equal(tw__options_parse(&o, envp2, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_non_null(strstr(warn, "did you mean THREADWATCH_EXITCODE"));
  const char *second = strstr(warn, "THREADWATCH_NOTHING_LIKE_ANY_OPTION");
  assert_non_null(second);
  assert_null(strstr(second, "did you mean"));
  size_t lines = 0;
  for (const char *p = warn; *p; p++) lines += *p == '\n';
  assert_int_equal(lines, 2);
}

static void test_options_parse_ignores_other_variables(void **state) {
  (void)state;
  static struct tw_options o, d;
  char err[256] = "", warn[256] = "";
  assert_int_equal(tw__options_parse(&d, NULL, err, sizeof(err), warn, sizeof(warn)), 0);
  char *const envp[] = {"PATH=/usr/bin",
                        "STALL=abc",
                        "XTHREADWATCH_STALL=abc",
                        "threadwatch_stall=abc",
                        "THREADWATCH_STALL", /* no '=' */
                        "LD_PRELOAD=libthreadwatch.so",
                        NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_string_equal(warn, "");
  assert_memory_equal(&o, &d, sizeof(o));
}

static int cat_items(const char *name, const char *value, void *arg) {
  char *seen = arg;
  size_t len = strlen(seen);
  snprintf(seen + len, 256 - len, "%s=%s;", name, value);
  return 0;
}

/* --- THREADWATCH_OPTIONS --- */

static void test_options_string_sets_values_through_the_table(void **state) {
  (void)state;
  static struct tw_options o;
  char err[512] = "", warn[512] = "";
  char *const envp[] = {"THREADWATCH_OPTIONS=stall=30s:json=out.jsonl:exitcode=1:FAIL_ON=all", NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_string_equal(warn, "");
  assert_int_equal(o.stall_ns, 30ull * NS_PER_S);
  assert_string_equal(o.json, "out.jsonl");
  assert_int_equal(o.exitcode, 1);
  assert_string_equal(o.fail_on, "all");
  assert_string_equal(o.options, "stall=30s:json=out.jsonl:exitcode=1:FAIL_ON=all");
}

static void test_options_single_variable_wins_over_string(void **state) {
  (void)state;
  static struct tw_options o;
  char err[512] = "", warn[512] = "";
  /* Whatever the order in the environment. */
  char *const envp[] = {"THREADWATCH_EXITCODE=3", "THREADWATCH_OPTIONS=exitcode=1:stall=2s", NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_int_equal(o.exitcode, 3);
  assert_int_equal(o.stall_ns, 2ull * NS_PER_S);
  char *const envp2[] = {"THREADWATCH_OPTIONS=exitcode=1", "THREADWATCH_EXITCODE=4", NULL};
  assert_int_equal(tw__options_parse(&o, envp2, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_int_equal(o.exitcode, 4);
}

static void test_options_string_quotes_and_empty_items(void **state) {
  (void)state;
  static struct tw_options o;
  char err[512] = "", warn[512] = "";
  char *const envp[] = {"THREADWATCH_OPTIONS=:json='/tmp/a:b.jsonl'::log=\"x:y\":", NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), 0);
  assert_string_equal(o.json, "/tmp/a:b.jsonl");
  assert_string_equal(o.log, "x:y");
  assert_string_equal(warn, "");
}

static void test_options_string_bad_value_is_one_line_error(void **state) {
  (void)state;
  static struct tw_options o;
  char err[512] = "", warn[512] = "";
  char *const envp[] = {"THREADWATCH_OPTIONS=json=x:stall=abc", NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), -EINVAL);
  if (!strstr(err, "THREADWATCH_OPTIONS: stall='abc' is not valid"))
    fail_msg("error does not name the item: %s", err);
  assert_non_null(strstr(err, form_of("STALL")));
  assert_null(strchr(err, '\n'));
  /* Not name=value, an unclosed quote, text after a quote. */
  const char *bad[] = {"THREADWATCH_OPTIONS=stall", "THREADWATCH_OPTIONS=json='a:b",
                       "THREADWATCH_OPTIONS=json='a'b", "THREADWATCH_OPTIONS==1s"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *const envp2[] = {(char *)bad[i], NULL};
    err[0] = '\0';
    if (tw__options_parse(&o, envp2, err, sizeof(err), warn, sizeof(warn)) != -EINVAL)
      fail_msg("%s was accepted", bad[i]);
    if (!strstr(err, "THREADWATCH_OPTIONS") || !strstr(err, form_of("OPTIONS")))
      fail_msg("%s: error does not name the variable and its form: %s", bad[i], err);
  }
}

static void test_options_string_unknown_name_warns_closest(void **state) {
  (void)state;
  static struct tw_options o;
  char err[512] = "", warn[512] = "";
  char *const envp[] = {"THREADWATCH_OPTIONS=stal=1s:exitcode=5:options=x", NULL};
  assert_int_equal(tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)), 0);
  if (!strstr(warn, "THREADWATCH_OPTIONS: unknown option 'stal' ignored; did you mean stall?"))
    fail_msg("no suggestion: %s", warn);
  assert_non_null(strstr(warn, "nested"));
  assert_int_equal(o.exitcode, 5);
}

static void test_options_items_walks_in_order(void **state) {
  (void)state;
  char seen[256] = "", bad[64] = "";
  int rc = tw__options_items("a=1:b='2:3'::c=", cat_items, seen, bad, sizeof(bad));
  assert_int_equal(rc, 0);
  assert_string_equal(seen, "a=1;b=2:3;c=;");
  assert_int_equal(tw__options_items("a=1:nonsense:c=2", cat_items, seen, bad, sizeof(bad)), -EINVAL);
  assert_string_equal(bad, "nonsense");
}

static void test_options_find_any_case(void **state) {
  (void)state;
  assert_string_equal(tw__options_find("stall"), "STALL");
  assert_string_equal(tw__options_find("Max_Threads"), "MAX_THREADS");
  assert_null(tw__options_find("stal"));
}

static void test_options_closest_suggests_near_names(void **state) {
  (void)state;
  const char *c = tw__options_closest("THREADWATCH_STAL");
  assert_non_null(c);
  assert_string_equal(c, "THREADWATCH_STALL");
  c = tw__options_closest("THREADWATCH_MAXTHREADS");
  assert_non_null(c);
  assert_string_equal(c, "THREADWATCH_MAX_THREADS");
  c = tw__options_closest("THREADWATCH_SUPRESS");
  assert_non_null(c);
  assert_string_equal(c, "THREADWATCH_SUPPRESS");
  c = tw__options_closest("THREADWATCH_LOG");
  assert_non_null(c);
  assert_string_equal(c, "THREADWATCH_LOG");
  assert_null(tw__options_closest("THREADWATCH_COMPLETELY_UNRELATED_THING"));
  assert_null(tw__options_closest("STALL"));
  assert_null(tw__options_closest(""));
  /* Names longer than the edit-distance table are simply not matched. */
  char huge[200];
  memset(huge, 'A', sizeof(huge) - 1);
  huge[sizeof(huge) - 1] = '\0';
  memcpy(huge, "THREADWATCH_", 12);
  assert_null(tw__options_closest(huge));
}

/* --- %p expansion --- */

static void test_options_expand_pid(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(tw__expand_pid("out.%p.json", 42, out, sizeof(out)), 0);
  assert_string_equal(out, "out.42.json");
  assert_int_equal(tw__expand_pid("plain.log", 42, out, sizeof(out)), 0);
  assert_string_equal(out, "plain.log");
  assert_int_equal(tw__expand_pid("%p-%p", 7, out, sizeof(out)), 0);
  assert_string_equal(out, "7-7");
  assert_int_equal(tw__expand_pid("100%", 7, out, sizeof(out)), 0);
  assert_string_equal(out, "100%");
  assert_int_equal(tw__expand_pid("%d%%p", 7, out, sizeof(out)), 0);
  assert_string_equal(out, "%d%7");
  assert_int_equal(tw__expand_pid("", 7, out, sizeof(out)), 0);
  assert_string_equal(out, "");
}

static void test_options_expand_pid_too_long(void **state) {
  (void)state;
  char out[12];
  /* "out.42.json" is 11 bytes: it fits in 12 with its NUL, not in 11. */
  assert_int_equal(tw__expand_pid("out.%p.json", 42, out, 12), 0);
  assert_string_equal(out, "out.42.json");
  assert_int_equal(tw__expand_pid("out.%p.json", 42, out, 11), -ENAMETOOLONG);
  assert_int_equal(tw__expand_pid("out.%p.json", 123456789, out, sizeof(out)), -ENAMETOOLONG);
  assert_int_equal(tw__expand_pid("a-much-longer-name", 1, out, sizeof(out)), -ENAMETOOLONG);
}

/* A zero-size buffer cannot even hold the terminating NUL: nothing may be written to it. */
static void test_options_expand_pid_zero_size_writes_nothing(void **state) {
  (void)state;
  char canary[2] = {'X', 'Y'};
  assert_int_equal(tw__expand_pid("", 42, canary, 0), -ENAMETOOLONG);
  assert_int_equal(canary[0], 'X');
  assert_int_equal(tw__expand_pid("%p", 42, canary, 0), -ENAMETOOLONG);
  assert_int_equal(canary[0], 'X');
}

/* --- the option table --- */

static void test_options_table_is_complete(void **state) {
  (void)state;
  const char *name, *type, *def, *desc, *form;
  size_t n = 0;
  for (; tw__options_entry(n, &name, &type, &def, &desc, &form) == 0; n++) {
    assert_non_null(name);
    assert_true(name[0] != '\0');
    assert_non_null(type);
    assert_non_null(def);
    assert_non_null(desc);
    assert_true(desc[0] != '\0');
    assert_non_null(form);
    assert_true(form[0] != '\0');
    /* Every default parses as its own type: tw__options_parse with an explicit default changes
     * nothing compared with the empty environment. */
    char var[TW_OPT_STR_MAX + 64];
    snprintf(var, sizeof(var), "THREADWATCH_%s=%s", name, def);
    char *const envp[] = {var, NULL};
    static struct tw_options o, d;
    char err[512] = "", warn[256] = "";
    assert_int_equal(tw__options_parse(&d, NULL, err, sizeof(err), warn, sizeof(warn)), 0);
    if (tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)) != 0)
      fail_msg("default of %s does not parse: %s", name, err);
    assert_memory_equal(&o, &d, sizeof(o));
    /* Each name is suggested for itself. */
    char full[128];
    snprintf(full, sizeof(full), "THREADWATCH_%s", name);
    assert_non_null(tw__options_closest(full));
    assert_string_equal(tw__options_closest(full), full);
  }
  assert_true(n >= 10);
  assert_int_equal(tw__options_entry(n + 1000, &name, &type, &def, &desc, &form), -1);
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, len = 0, r;
  char *buf = malloc(cap);
  while (buf && (r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += r;
    if (len + 1 == cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) free(buf);
      buf = bigger;
    }
  }
  fclose(f);
  if (buf) buf[len] = '\0';
  return buf;
}

/* The README's option table (between <!-- options:begin --> and <!-- options:end -->) holds exactly
 * one row per entry of options.inc, rendered the way `threadwatch options --markdown` does. */
static void test_options_readme_table_matches_options_inc(void **state) {
  (void)state;
  /* This file is tests/unit/test_options.c; README.md is two directories up. */
  char path[4096];
  snprintf(path, sizeof(path), "%s", __FILE__);
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(path, '/');
    if (!slash) {
      path[0] = '\0';
      break;
    }
    *slash = '\0';
  }
  char readme[4200];
  snprintf(readme, sizeof(readme), "%s%sREADME.md", path, path[0] ? "/" : "");
  char *text = read_text(readme);
  if (!text) {
    print_message("skipping: %s does not exist yet\n", readme);
    skip();
    return;
  }
  char *begin = strstr(text, "<!-- options:begin -->");
  char *end = begin ? strstr(begin, "<!-- options:end -->") : NULL;
  if (!begin || !end) {
    free(text);
    fail_msg("%s has no <!-- options:begin --> ... <!-- options:end --> block", readme);
    return;
  }
  *end = '\0';

  const char *name, *type, *def, *desc, *form;
  size_t n = 0, missing = 0;
  for (; tw__options_entry(n, &name, &type, &def, &desc, &form) == 0; n++) {
    char row[4096];
    snprintf(row, sizeof(row), "\n| `THREADWATCH_%s` | `%s` | %s | %s |\n", name,
             def[0] ? def : "(empty)", form, desc);
    if (!strstr(begin, row)) {
      print_error(
          "README.md's option table lacks or has a stale row for THREADWATCH_%s; expected:\n%s",
          name, row + 1);
      missing++;
    }
  }
  size_t rows = 0;
  for (const char *p = begin; (p = strstr(p, "\n| `THREADWATCH_")) != NULL; p++) rows++;
  free(text);
  if (missing) fail_msg("%zu option(s) out of step; run scripts/gen-options-doc.sh", missing);
  if (rows != n) fail_msg("README.md lists %zu options, options.inc has %zu", rows, n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_options_duration_accepts_units),
      cmocka_unit_test(test_options_duration_rejects_malformed),
      cmocka_unit_test(test_options_duration_rejects_overflow),
      cmocka_unit_test(test_options_duration_keeps_fraction_precision),
      cmocka_unit_test(test_options_exitcode_range),
      cmocka_unit_test(test_options_count_rejects_zero_and_negative),
      cmocka_unit_test(test_options_deadlock_report_or_abort),
      cmocka_unit_test(test_options_profile_block_mutex_list),
      cmocka_unit_test(test_options_bool_zero_or_one),
      cmocka_unit_test(test_options_list_rejects_empty_items),
      cmocka_unit_test(test_options_path_copies_and_bounds),
      cmocka_unit_test(test_options_parse_defaults_when_empty),
      cmocka_unit_test(test_options_parse_sets_values),
      cmocka_unit_test(test_options_parse_bad_value_names_variable_and_form),
      cmocka_unit_test(test_options_parse_unknown_name_warns_did_you_mean),
      cmocka_unit_test(test_options_parse_ignores_other_variables),
      cmocka_unit_test(test_options_string_sets_values_through_the_table),
      cmocka_unit_test(test_options_single_variable_wins_over_string),
      cmocka_unit_test(test_options_string_quotes_and_empty_items),
      cmocka_unit_test(test_options_string_bad_value_is_one_line_error),
      cmocka_unit_test(test_options_string_unknown_name_warns_closest),
      cmocka_unit_test(test_options_items_walks_in_order),
      cmocka_unit_test(test_options_find_any_case),
      cmocka_unit_test(test_options_closest_suggests_near_names),
      cmocka_unit_test(test_options_expand_pid),
      cmocka_unit_test(test_options_expand_pid_too_long),
      cmocka_unit_test(test_options_expand_pid_zero_size_writes_nothing),
      cmocka_unit_test(test_options_table_is_complete),
      cmocka_unit_test(test_options_readme_table_matches_options_inc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
