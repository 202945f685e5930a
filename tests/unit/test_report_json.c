/* Unit tests for report_json.c (and the JSON string escaping in out.c, and the text writer's
 * headline): a report renders as exactly one line of valid JSON with the documented fields. */
#include <assert.h>
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
#include "report/fingerprint.h"
#include "report/report.h"
#include "report/writer.h"

/* ---------------------------------------------------------------------------------------------
 * A small strict JSON (RFC 8259) validator with path lookup, enough to check one report line.
 * --------------------------------------------------------------------------------------------- */

static bool j_value(const char **p, int depth);

static void j_ws(const char **p) {
  while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r') (*p)++;
}

static bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A well-formed UTF-8 sequence starting at s (not overlong, no surrogates, <= U+10FFFF); its
 * length, or 0. */
static int utf8_len(const unsigned char *s) {
  if (s[0] < 0x80) return 1;
  int n;
  uint32_t cp;
  if ((s[0] & 0xe0) == 0xc0)
    n = 2, cp = s[0] & 0x1f;
  else if ((s[0] & 0xf0) == 0xe0)
    n = 3, cp = s[0] & 0x0f;
  else if ((s[0] & 0xf8) == 0xf0)
    n = 4, cp = s[0] & 0x07;
  else
    return 0;
  for (int i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

static bool j_string(const char **p) {
  const char *s = *p;
  if (*s++ != '"') return false;
  for (;;) {
    unsigned char c = (unsigned char)*s;
    if (c == '"') break;
    if (c < 0x20) return false; /* raw control characters (and the end of the text) */
    if (c == '\\') {
      s++;
      if (*s == 'u') {
        for (int i = 1; i <= 4; i++)
          if (!is_hex(s[i])) return false;
        s += 5;
      } else if (*s && strchr("\"\\/bfnrt", *s)) {
        s++;
      } else {
        return false;
      }
      continue;
    }
    int n = utf8_len((const unsigned char *)s);
    if (!n) return false;
    s += n;
  }
  *p = s + 1;
  return true;
}

static bool j_number(const char **p) {
  const char *s = *p;
  if (*s == '-') s++;
  if (*s == '0')
    s++;
  else if (*s >= '1' && *s <= '9')
    while (*s >= '0' && *s <= '9') s++;
  else
    return false;
  if (*s == '.') {
    s++;
    if (!(*s >= '0' && *s <= '9')) return false;
    while (*s >= '0' && *s <= '9') s++;
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-') s++;
    if (!(*s >= '0' && *s <= '9')) return false;
    while (*s >= '0' && *s <= '9') s++;
  }
  *p = s;
  return true;
}

static bool j_container(const char **p, int depth, char open, char close, bool keyed) {
  const char *s = *p;
  if (*s++ != open || depth > 64) return false;
  j_ws(&s);
  if (*s == close) {
    *p = s + 1;
    return true;
  }
  for (;;) {
    j_ws(&s);
    if (keyed) {
      if (!j_string(&s)) return false;
      j_ws(&s);
      if (*s++ != ':') return false;
    }
    if (!j_value(&s, depth + 1)) return false;
    j_ws(&s);
    if (*s == ',') {
      s++;
      continue;
    }
    if (*s != close) return false;
    *p = s + 1;
    return true;
  }
}

static bool j_value(const char **p, int depth) {
  j_ws(p);
  switch (**p) {
    case '{':
      return j_container(p, depth, '{', '}', true);
    case '[':
      return j_container(p, depth, '[', ']', false);
    case '"':
      return j_string(p);
    case 't':
      return strncmp(*p, "true", 4) == 0 ? (*p += 4, true) : false;
    case 'f':
      return strncmp(*p, "false", 5) == 0 ? (*p += 5, true) : false;
    case 'n':
      return strncmp(*p, "null", 4) == 0 ? (*p += 4, true) : false;
    default:
      return j_number(p);
  }
}

/* True if text is exactly one JSON value (surrounding white space allowed). */
static bool json_valid(const char *text) {
  const char *p = text;
  if (!j_value(&p, 0)) return false;
  j_ws(&p);
  return *p == '\0';
}

/* The raw text of the value at `path` ("threads.1.name": object keys and array indexes separated by
 * dots) in a valid JSON document, copied into out[n]; false if there is no such value. Keys are
 * compared raw (the report's keys need no escapes). */
static bool json_get(const char *doc, const char *path, char *out, size_t n) {
  const char *v = doc;
  j_ws(&v);
  char comp[64];
  while (*path) {
    size_t len = strcspn(path, ".");
    if (len >= sizeof(comp)) return false;
    memcpy(comp, path, len);
    comp[len] = '\0';
    path += len + (path[len] == '.');
    bool found = false;
    if (*v == '{') {
      v++;
      for (j_ws(&v); *v == '"';) {
        const char *key = v + 1, *after = v;
        if (!j_string(&after)) return false;
        size_t klen = (size_t)(after - 1 - key);
        v = after;
        j_ws(&v);
        v++; /* ':' */
        j_ws(&v);
        if (klen == strlen(comp) && memcmp(key, comp, klen) == 0) {
          found = true;
          break;
        }
        if (!j_value(&v, 0)) return false;
        j_ws(&v);
        if (*v == ',') v++;
        j_ws(&v);
      }
    } else if (*v == '[') {
      char *end;
      long idx = strtol(comp, &end, 10);
      if (*end || idx < 0) return false;
      v++;
      j_ws(&v);
      for (long i = 0; *v != ']'; i++) {
        if (i == idx) {
          found = true;
          break;
        }
        if (!j_value(&v, 0)) return false;
        j_ws(&v);
        if (*v == ',') v++;
        j_ws(&v);
      }
    }
    if (!found) return false;
  }
  const char *end = v;
  if (!j_value(&end, 0)) return false;
  size_t len = (size_t)(end - v);
  if (len >= n) return false;
  memcpy(out, v, len);
  out[len] = '\0';
  return true;
}

/* The keys of the object at `path`, space-separated, in order. */
static bool json_keys(const char *doc, const char *path, char *out, size_t n) {
  static char obj[1 << 16];
  if (path[0]) {
    if (!json_get(doc, path, obj, sizeof(obj))) return false;
  } else {
    snprintf(obj, sizeof(obj), "%s", doc);
  }
  const char *v = obj;
  j_ws(&v);
  if (*v++ != '{') return false;
  size_t o = 0;
  out[0] = '\0';
  for (j_ws(&v); *v == '"';) {
    const char *key = v + 1, *after = v;
    if (!j_string(&after)) return false;
    int w = snprintf(out + o, n - o, "%s%.*s", o ? " " : "", (int)(after - 1 - key), key);
    if (w < 0 || (size_t)w >= n - o) return false;
    o += (size_t)w;
    v = after;
    j_ws(&v);
    v++;
    if (!j_value(&v, 0)) return false;
    j_ws(&v);
    if (*v == ',') v++;
    j_ws(&v);
  }
  return true;
}

#define EXPECT_FIELD(doc, path, raw)                                                      \
  do {                                                                                    \
    char got_[8192];                                                                      \
    if (!json_get((doc), (path), got_, sizeof(got_)))                                     \
      fail_msg("no field %s in %s", (path), (doc));                                       \
    if (strcmp(got_, (raw)) != 0) fail_msg("%s is %s, expected %s", (path), got_, (raw)); \
  } while (0)

#define EXPECT_KEYS(doc, path, keys)                                                          \
  do {                                                                                        \
    char got_[1024];                                                                          \
    if (!json_keys((doc), (path), got_, sizeof(got_))) fail_msg("no object at '%s'", (path)); \
    if (strcmp(got_, (keys)) != 0)                                                            \
      fail_msg("keys of '%s' are '%s', expected '%s'", (path), got_, (keys));                 \
  } while (0)

/* The validator itself, so a pass below means something. */
static void test_report_json_validator_sanity(void **state) {
  (void)state;
  static const char *const good[] = {
      "{}", "[]", "{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\n\"]}", "\"caf\xc3\xa9\"", " 0 "};
  static const char *const bad[] = {
      "",          "{",         "{\"a\":}", "[1,]",         "{\"a\" 1}", "\"a\nb\"",
      "\"\\x41\"", "\"\\u12\"", "01",       "1.",           "\"\xff\"",  "{} {}",
      "[1 2]",     "tru",       "\"\x01\"", "\"\xc0\x80\"", "{\"a\":1,}"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    if (!json_valid(good[i])) fail_msg("validator rejects valid %s", good[i]);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (json_valid(bad[i])) fail_msg("validator accepts invalid '%s'", bad[i]);
  char v[64];
  assert_true(json_get("{\"a\":{\"b\":[10,{\"c\":\"x\"}]},\"d\":2}", "a.b.1.c", v, sizeof(v)));
  assert_string_equal(v, "\"x\"");
  assert_true(json_get("{\"a\":{\"b\":[10,{\"c\":\"x\"}]},\"d\":2}", "d", v, sizeof(v)));
  assert_string_equal(v, "2");
  assert_false(json_get("{\"a\":1}", "b", v, sizeof(v)));
  assert_false(json_get("{\"a\":[1]}", "a.1", v, sizeof(v)));
}

/* ---------------------------------------------------------------------------------------------
 * Reports.
 * --------------------------------------------------------------------------------------------- */

static struct tw_out out; /* fd -1: the rendered text stays in out.buf/out.len */

/* A thread name with every kind of byte that needs escaping (15 bytes at most, plus the NUL). */
static const char odd_name[] =
    "a\"b\\c\nd\te\x01"
    "f\x80\xff";
static const char odd_name_json[] = "\"a\\\"b\\\\c\\nd\\te\\u0001f\\u0080\\u00ff\"";

static void fill_leak_report(struct tw_report *r) {
  memset(r, 0, sizeof(*r));
  r->kind = "thread-leak";
  r->what = "blocked";
  snprintf(r->message, sizeof(r->message),
           "5 threads created at \"main\" (C:\\src\\leak.c:41) are still blocked in read() on pipe "
           "fd 5");
  r->count = 5;
  r->same_stacks = true; /* as leaks.c makes thread-leak groups */
  r->nthreads = 2;
  r->dropped = 7;
  snprintf(r->fingerprint, sizeof(r->fingerprint), "0123456789abcdef");

  struct tw_report_thread *t = &r->threads[0];
  t->id = 2;
  t->parent = 1;
  t->tid = 4244;
  snprintf(t->name, sizeof(t->name), "reader");
  t->state = TW_TS_BLOCKED;
  t->wait.call = TW_CALL_READ;
  t->wait.fd = 5;
  t->wait_ns = 1200ull * 1000 * 1000;
  snprintf(t->object, sizeof(t->object), "pipe fd 5");
  snprintf(t->note, sizeof(t->note), "no thread has written to it");
  t->stack = 0;
  t->created_at = 0;

  t = &r->threads[1];
  t->id = 3;
  t->parent = 1;
  t->tid = 4245;
  static_assert(sizeof(odd_name) <= sizeof(t->name), "the odd name fits a thread name");
  memcpy(t->name, odd_name, sizeof(odd_name));
  t->state = TW_TS_RUNNING;
}

static const char *render_json(const struct tw_report *r, long pid) {
  tw_out_init(&out, -1);
  tw_report_json(&out, r, pid);
  assert_true(out.len > 0);
  assert_true(out.len < sizeof(out.buf)); /* nothing was flushed (and so lost) */
  assert_int_equal(out.error, 0);
  static char line[sizeof(out.buf) + 1];
  memcpy(line, out.buf, out.len);
  line[out.len] = '\0';
  return line;
}

/* Exactly one line: a single '\n' at the very end, and no other control or non-ASCII byte. */
static void expect_one_ascii_line(const char *line) {
  size_t len = strlen(line);
  assert_true(len > 1);
  assert_int_equal(line[len - 1], '\n');
  for (size_t i = 0; i + 1 < len; i++) {
    unsigned char c = (unsigned char)line[i];
    if (c < 0x20 || c >= 0x7f) fail_msg("raw byte 0x%02x at offset %zu of %s", c, i, line);
  }
}

static void test_report_json_thread_leak_is_one_valid_line(void **state) {
  (void)state;
  static struct tw_report r;
  fill_leak_report(&r);
  const char *line = render_json(&r, 4242);
  expect_one_ascii_line(line);
  if (!json_valid(line)) fail_msg("not valid JSON: %s", line);

  EXPECT_KEYS(line, "",
              "kind what severity fingerprint message version time exe pid count threads "
              "omitted_threads dropped_events");
  EXPECT_FIELD(line, "fingerprint", "\"0123456789abcdef\"");
  EXPECT_FIELD(line, "version", "\"" TW_VERSION "\"");
  EXPECT_FIELD(line, "kind", "\"thread-leak\"");
  EXPECT_FIELD(line, "what", "\"blocked\"");
  EXPECT_FIELD(
      line, "message",
      "\"5 threads created at \\\"main\\\" (C:\\\\src\\\\leak.c:41) are still blocked in read() "
      "on pipe fd 5\"");
  EXPECT_FIELD(line, "pid", "4242");
  EXPECT_FIELD(line, "count", "5");
  EXPECT_FIELD(line, "omitted_threads", "3");
  EXPECT_FIELD(line, "dropped_events", "7");

  EXPECT_KEYS(line, "threads.0", "id tid name state wait parent stack created_at");
  EXPECT_FIELD(line, "threads.0.id", "2");
  EXPECT_FIELD(line, "threads.0.tid", "4244");
  EXPECT_FIELD(line, "threads.0.name", "\"reader\"");
  EXPECT_FIELD(line, "threads.0.state", "\"blocked\"");
  EXPECT_KEYS(line, "threads.0.wait", "call object note fd for_ms");
  EXPECT_FIELD(line, "threads.0.wait.call", "\"read\"");
  EXPECT_FIELD(line, "threads.0.wait.object", "\"pipe fd 5\"");
  EXPECT_FIELD(line, "threads.0.wait.note", "\"no thread has written to it\"");
  EXPECT_FIELD(line, "threads.0.wait.fd", "5");
  EXPECT_FIELD(line, "threads.0.wait.for_ms", "1200");
  EXPECT_FIELD(line, "threads.0.parent", "1");
  EXPECT_FIELD(line, "threads.0.stack", "[]");
  EXPECT_FIELD(line, "threads.0.created_at", "[]");

  EXPECT_KEYS(line, "threads.1", "id tid name state parent stack created_at");
  EXPECT_FIELD(line, "threads.1.id", "3");
  EXPECT_FIELD(line, "threads.1.name", odd_name_json);
  EXPECT_FIELD(line, "threads.1.state", "\"running\"");
  EXPECT_FIELD(line, "threads.1.stack", "[]");
  EXPECT_FIELD(line, "threads.1.created_at", "[]");

  char unused[16];
  assert_false(json_get(line, "threads.2", unused, sizeof(unused)));
}

/* Valid UTF-8 is kept as it is, invalid bytes are escaped: the line is valid UTF-8 either way. */
static void test_report_json_str_keeps_utf8(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},                       /* café */
      {"\xe2\x82\xac \xf0\x9f\xa7\xb5", "\"\xe2\x82\xac \xf0\x9f\xa7\xb5\""}, /* € and a 4-byte one */
      {"caf\xc3", "\"caf\\u00c3\""},                           /* cut in the middle */
      {"\xc0\x80", "\"\\u00c0\\u0080\""},                     /* overlong NUL */
      {"\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""},         /* a surrogate */
      {"\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""}, /* past U+10FFFF */
      {"\xa9x\xc3\xa9", "\"\\u00a9x\xc3\xa9\""},             /* a stray continuation byte */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    tw_out_init(&out, -1);
    tw_out_json_str(&out, cases[i].in);
    if (out.len != strlen(cases[i].out) || memcmp(out.buf, cases[i].out, out.len) != 0)
      fail_msg("case %zu rendered as %.*s, expected %s", i, (int)out.len, out.buf, cases[i].out);
    char z[64];
    memcpy(z, out.buf, out.len);
    z[out.len] = '\0';
    if (!json_valid(z)) fail_msg("case %zu gives invalid JSON %s", i, z);
  }
}

/* The fingerprint: 16 hex digits, the same for the same report, different for another kind/what. */
static void test_report_fingerprint_stable_and_distinct(void **state) {
  (void)state;
  static struct tw_report r;
  fill_leak_report(&r);
  char a[TW_FINGERPRINT_LEN + 1], b[TW_FINGERPRINT_LEN + 1], c[TW_FINGERPRINT_LEN + 1];
  tw_report_fingerprint(&r, a);
  assert_int_equal(strlen(a), 16);
  assert_int_equal(strspn(a, "0123456789abcdef"), 16);
  r.count = 77; /* counts, ids, pids and messages are not part of it */
  r.threads[0].id = 40;
  snprintf(r.message, sizeof(r.message), "another sentence");
  tw_report_fingerprint(&r, b);
  assert_string_equal(a, b);
  r.what = "exited";
  tw_report_fingerprint(&r, c);
  assert_string_not_equal(a, c);
}

static void test_report_json_surge_groups_and_lock_wait(void **state) {
  (void)state;
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.kind = "thread-surge";
  r.what = "max-threads";
  snprintf(r.message, sizeof(r.message), "5001 live threads (limit 5000)");
  r.count = 5001;
  r.limit = 5000;
  r.nthreads = 2;
  r.threads[0] = (struct tw_report_thread){.id = 9,
                                           .parent = 2,
                                           .tid = 77,
                                           .state = TW_TS_BLOCKED,
                                           .wait = {.call = TW_CALL_MUTEX_LOCK, .obj = 0x5000},
                                           .wait_ns = 5};
  snprintf(r.threads[0].object, sizeof(r.threads[0].object), "mutex 0x5000");
  r.threads[1] = (struct tw_report_thread){.id = 10, .parent = 2, .tid = -1, .state = TW_TS_EXITED};
  r.ngroups = 2;
  r.groups[0] = (struct tw_report_group){.count = 4800, .created_at = 0};
  r.groups[1] = (struct tw_report_group){.count = 201, .created_at = 0};

  const char *line = render_json(&r, 1);
  expect_one_ascii_line(line);
  if (!json_valid(line)) fail_msg("not valid JSON: %s", line);
  EXPECT_FIELD(line, "kind", "\"thread-surge\"");
  EXPECT_FIELD(line, "limit", "5000");
  EXPECT_FIELD(line, "omitted_threads", "4999");
  EXPECT_FIELD(line, "groups.0.count", "4800");
  EXPECT_FIELD(line, "groups.0.created_at", "[]");
  EXPECT_FIELD(line, "groups.1.count", "201");
  EXPECT_FIELD(line, "dropped_events", "0");
  EXPECT_KEYS(line, "threads.0.wait", "call object address for_ms");
  EXPECT_FIELD(line, "threads.0.wait.call", "\"pthread_mutex_lock\"");
  EXPECT_FIELD(line, "threads.0.wait.address", "\"0x5000\"");
  EXPECT_FIELD(line, "threads.0.wait.for_ms", "0");
  EXPECT_FIELD(line, "threads.1.state", "\"exited\"");
  EXPECT_FIELD(line, "threads.1.tid", "-1");
  EXPECT_FIELD(line, "threads.1.name", "\"\"");
}

static void test_report_json_growth_counts_and_site(void **state) {
  (void)state;
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.kind = "thread-growth";
  r.what = "rising";
  r.severity = "warning";
  snprintf(r.message, sizeof(r.message), "the live threads created at f (x.c:1) rose");
  r.count = 35;
  r.ngroups = 1;
  r.groups[0] = (struct tw_report_group){.count = 35, .created_at = 0};
  r.ncounts = 7;
  for (uint32_t i = 0; i < 7; i++) r.counts[i] = 5 * (i + 1);
  r.period_ns = 100ull * 1000 * 1000;
  const char *line = render_json(&r, 5);
  expect_one_ascii_line(line);
  if (!json_valid(line)) fail_msg("not valid JSON: %s", line);
  EXPECT_FIELD(line, "kind", "\"thread-growth\"");
  EXPECT_FIELD(line, "severity", "\"warning\"");
  EXPECT_FIELD(line, "period_ms", "100");
  EXPECT_FIELD(line, "counts", "[5,10,15,20,25,30,35]");
  EXPECT_FIELD(line, "groups.0.count", "35");
  char unused[16];
  assert_false(json_get(line, "limit", unused, sizeof(unused))); /* a surge's field only */
  /* The text report ends with the counts, one period apart. */
  tw_out_init(&out, -1);
  tw_report_text(&out, &r, 5);
  out.buf[out.len] = '\0';
  assert_non_null(strstr(out.buf, "live threads of that site, one period (100ms) apart: 5, 10, 15, "
                                  "20, 25, 30, 35\n"));
}

static void test_report_json_no_threads(void **state) {
  (void)state;
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.kind = "thread-leak";
  r.what = "exited";
  r.count = 3; /* stands for three threads, none listed */
  const char *line = render_json(&r, 99);
  expect_one_ascii_line(line);
  if (!json_valid(line)) fail_msg("not valid JSON: %s", line);
  EXPECT_FIELD(line, "threads", "[]");
  EXPECT_FIELD(line, "message", "\"\"");
  EXPECT_FIELD(line, "omitted_threads", "3");
}

/* Every byte 0x01..0xff, alone, is escaped exactly as JSON requires (or passed through). */
static void test_report_json_str_escapes_each_byte(void **state) {
  (void)state;
  for (int b = 1; b < 256; b++) {
    char in[2] = {(char)b, 0}, expect[16];
    switch (b) {
      case '"':
        snprintf(expect, sizeof(expect), "\"\\\"\"");
        break;
      case '\\':
        snprintf(expect, sizeof(expect), "\"\\\\\"");
        break;
      case '\n':
        snprintf(expect, sizeof(expect), "\"\\n\"");
        break;
      case '\r':
        snprintf(expect, sizeof(expect), "\"\\r\"");
        break;
      case '\t':
        snprintf(expect, sizeof(expect), "\"\\t\"");
        break;
      default:
        if (b < 0x20 || b >= 0x7f)
          snprintf(expect, sizeof(expect), "\"\\u%04x\"", b);
        else
          snprintf(expect, sizeof(expect), "\"%c\"", b);
    }
    tw_out_init(&out, -1);
    tw_out_json_str(&out, in);
    if (out.len != strlen(expect) || memcmp(out.buf, expect, out.len) != 0)
      fail_msg("byte 0x%02x escaped as %.*s, expected %s", b, (int)out.len, out.buf, expect);
    char z[16];
    memcpy(z, out.buf, out.len);
    z[out.len] = '\0';
    if (!json_valid(z)) fail_msg("byte 0x%02x gives invalid JSON %s", b, z);
  }
}

static void test_report_json_str_escapes_mixed_string(void **state) {
  (void)state;
  tw_out_init(&out, -1);
  tw_out_json_str(&out, odd_name);
  assert_int_equal(out.len, strlen(odd_name_json));
  assert_memory_equal(out.buf, odd_name_json, out.len);
  tw_out_init(&out, -1);
  tw_out_json_str(&out, "");
  assert_int_equal(out.len, 2);
  assert_memory_equal(out.buf, "\"\"", 2);
  tw_out_init(&out, -1);
  tw_out_json_str(&out, "plain /path/to-file.c:42");
  assert_int_equal(out.len, strlen("\"plain /path/to-file.c:42\""));
  assert_memory_equal(out.buf, "\"plain /path/to-file.c:42\"", out.len);
}

/* ---------------------------------------------------------------------------------------------
 * The text writer renders the same struct.
 * --------------------------------------------------------------------------------------------- */

static void test_report_json_text_headline(void **state) {
  (void)state;
  static struct tw_report r;
  fill_leak_report(&r);
  tw_out_init(&out, -1);
  tw_report_text(&out, &r, 4242);
  assert_true(out.len > 0 && out.len < sizeof(out.buf));
  static char text[sizeof(out.buf) + 1];
  memcpy(text, out.buf, out.len);
  text[out.len] = '\0';
  char head[700];
  snprintf(head, sizeof(head), "==4242== threadwatch: thread-leak: %s\n", r.message);
  if (strncmp(text, head, strlen(head)) != 0)
    fail_msg("text starts:\n%.200s\nexpected:\n%s", text, head);
  if (!strstr(text,
              "  T2 \"reader\" (tid 4244) blocked in read() on pipe fd 5 for 1.20s; "
              "no thread has written to it:\n    (stack unavailable)\n"))
    fail_msg("blocked thread line missing:\n%s", text);
  assert_non_null(strstr(text, "note: 7 events were dropped"));
  assert_true(out.len >= 2 && text[out.len - 1] == '\n' && text[out.len - 2] == '\n');
}

/* A thread-surge report, as leaks.c builds it (one listed thread per creation-stack group, `count`
 * the live threads, same_stacks false), renders without an empty thread-id list like "(, ...)". */
static void test_report_json_text_surge_more_threads_line(void **state) {
  (void)state;
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.kind = "thread-surge";
  r.what = "max-threads";
  snprintf(r.message, sizeof(r.message), "5001 threads alive at once");
  r.count = 5001;
  r.limit = 5000;
  r.nthreads = 2;
  r.threads[0] =
      (struct tw_report_thread){.id = 2, .parent = 1, .tid = 100, .state = TW_TS_RUNNING};
  r.threads[1] =
      (struct tw_report_thread){.id = 3, .parent = 1, .tid = 101, .state = TW_TS_RUNNING};
  r.ngroups = 2;
  r.groups[0] = (struct tw_report_group){.count = 4800, .created_at = 0};
  r.groups[1] = (struct tw_report_group){.count = 201, .created_at = 0};
  tw_out_init(&out, -1);
  tw_report_text(&out, &r, 7);
  static char text[sizeof(out.buf) + 1];
  memcpy(text, out.buf, out.len);
  text[out.len] = '\0';
  static const char head[] = "==7== threadwatch: thread-surge: 5001 threads alive at once\n";
  assert_true(strncmp(text, head, strlen(head)) == 0);
  assert_non_null(strstr(text, "  4800 live threads created at:\n"));
  assert_non_null(strstr(text, "  201 live threads created at:\n"));
  if (strstr(text, "(, ") || strstr(text, "()"))
    fail_msg("empty thread-id list in the text report:\n%s", text);
}

/* A lock-order cycle's edge lines name each edge's thread with its name from the report's threads
 * (`T2 "payer" took ...`); a thread without a name stays `T3`, and control bytes of a name never
 * reach the text. */
static void test_report_json_text_cycle_edges_name_threads(void **state) {
  (void)state;
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.kind = "lock-order-cycle";
  r.what = "lock-order";
  snprintf(r.message, sizeof(r.message), "potential deadlock");
  r.count = 2;
  r.nlocks = r.nedges = r.cycle_len = 2;
  r.locks[0] = (struct tw_report_lock){.addr = 0x1000};
  snprintf(r.locks[0].symbol, sizeof(r.locks[0].symbol), "accounts_lock");
  r.locks[1] = (struct tw_report_lock){.addr = 0x2000};
  r.edges[0] = (struct tw_report_edge){.from = 0, .to = 1, .thread = 2, .seen = 1};
  r.edges[1] = (struct tw_report_edge){.from = 1, .to = 0, .thread = 3, .seen = 1};
  r.nthreads = 2;
  r.threads[0] = (struct tw_report_thread){.id = 2, .parent = 1, .state = TW_TS_RUNNING};
  snprintf(r.threads[0].name, sizeof(r.threads[0].name), "pay\ner");
  r.threads[1] = (struct tw_report_thread){.id = 3, .parent = 1, .state = TW_TS_RUNNING};
  tw_out_init(&out, -1);
  tw_report_text(&out, &r, 9);
  static char text[sizeof(out.buf) + 1];
  memcpy(text, out.buf, out.len);
  text[out.len] = '\0';
  if (!strstr(text, "  M1 => M2: T2 \"pay?er\" took M2 while holding M1 (order seen 1 time):\n"))
    fail_msg("edge line of T2 missing:\n%s", text);
  if (!strstr(text, "  M2 => M1: T3 took M1 while holding M2 (order seen 1 time):\n"))
    fail_msg("edge line of T3 missing:\n%s", text);
  assert_non_null(strstr(text, "  M1 = mutex 0x1000 (accounts_lock), first seen taken at:\n"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_report_json_validator_sanity),
      cmocka_unit_test(test_report_json_thread_leak_is_one_valid_line),
      cmocka_unit_test(test_report_json_surge_groups_and_lock_wait),
      cmocka_unit_test(test_report_json_growth_counts_and_site),
      cmocka_unit_test(test_report_json_no_threads),
      cmocka_unit_test(test_report_json_str_escapes_each_byte),
      cmocka_unit_test(test_report_json_str_keeps_utf8),
      cmocka_unit_test(test_report_fingerprint_stable_and_distinct),
      cmocka_unit_test(test_report_json_str_escapes_mixed_string),
      cmocka_unit_test(test_report_json_text_headline),
      cmocka_unit_test(test_report_json_text_surge_more_threads_line),
      cmocka_unit_test(test_report_json_text_cycle_edges_name_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
