/* Unit tests for report/pprof.c and the folded writer of report/profile.c: a profile encodes as a
 * profile.proto that an independent decoder (below, from profile.proto's field numbers) reads back
 * with the right string, function, location and mapping tables; the gzip wrapper inflates back to
 * the same bytes; folded lines are root first with summed values. Symbols come from a fake
 * symbolizer, so nothing depends on this binary's own debug information. (That `go tool pprof`
 * reads the files the library writes is checked by tests/profile/run.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "base/out.h"
#include "report/pprof.h"
#include "report/profile.h"
#include "report/symbolize.h"
#include "runtime/stackdepot.h"

/* --- a fake symbolizer: four pcs, one of them with an inline chain, one without a symbol --- */

static int fake_symbolize(uintptr_t pc, struct tw_frame *out, int max) {
  (void)max;
  static const struct tw_frame leaf = {0x1010, 0, "leaf_fn", "/src/a.c", 10, "/bin/app", 0x1010, "b1d0"};
  static const struct tw_frame inl = {0x2020, 1, "inlined_fn", "/src/b.h", 3, "/bin/app", 0x2020, "b1d0"};
  static const struct tw_frame caller = {0x2020, 0, "caller;fn", "/src/b.c", 20, "/bin/app", 0x2020, "b1d0"};
  static const struct tw_frame mainf = {0x3030, 0, "main", "/src/m.c", 5, "/bin/app", 0x3030, "b1d0"};
  static const struct tw_frame libc = {0x7f0010, 0, "start_thread", NULL, 0, "/lib/libc.so.6", 0x10, NULL};
  static const struct tw_frame none = {0x9090, 0, "??", NULL, 0, "??", 0, NULL};
  switch (pc) {
    case 0x1010: out[0] = leaf; return 1;
    case 0x2020: out[0] = inl; out[1] = caller; return 2;
    case 0x3030: out[0] = mainf; return 1;
    case 0x7f0010: out[0] = libc; return 1;
    default: out[0] = none; out[0].pc = pc; return 1;
  }
}

static const struct tw_pprof_mapping fake_maps[] = {
    {0x1000, 0x4000, 0x1000, "/bin/app"},
    {0x7f0000, 0x7f8000, 0x0, "/lib/libc.so.6"},
};
static const struct tw_pprof_env fake_env = {fake_symbolize, fake_maps, 2};

/* --- a protobuf decoder (independent of the encoder: it reads the wire format) --- */

struct rd {
  const uint8_t *p, *end;
};

static uint64_t rd_varint(struct rd *r) {
  uint64_t v = 0;
  for (int shift = 0; r->p < r->end; shift += 7) {
    uint8_t b = *r->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail_msg("varint runs past the end");
  return 0;
}

/* The next field: its number, wire type, varint value or bytes. False at the end. */
static bool rd_field(struct rd *r, unsigned *field, unsigned *wire, uint64_t *v, struct rd *sub) {
  if (r->p >= r->end) return false;
  uint64_t key = rd_varint(r);
  *field = (unsigned)(key >> 3);
  *wire = (unsigned)(key & 7);
  if (*wire == 0) *v = rd_varint(r);
  else if (*wire == 2) {
    uint64_t n = rd_varint(r);
    assert_true(n <= (uint64_t)(r->end - r->p));
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
  } else fail_msg("unexpected wire type %u", *wire);
  return true;
}

/* Repeated varints, packed (wire 2) or not (wire 0), appended to out[*n]. */
static void rd_repeated(unsigned wire, uint64_t v, struct rd *sub, uint64_t *out, size_t *n,
                        size_t max) {
  if (wire == 0) {
    assert_true(*n < max);
    out[(*n)++] = v;
    return;
  }
  while (sub->p < sub->end) {
    assert_true(*n < max);
    out[(*n)++] = rd_varint(sub);
  }
}

#define MAXN 64
struct dlabel { uint64_t key, str; int64_t num; uint64_t unit; };
struct dsample {
  uint64_t locs[MAXN]; size_t nlocs;
  uint64_t values[4]; size_t nvalues;
  struct dlabel labels[8]; size_t nlabels;
};
struct dline { uint64_t function; int64_t line; };
struct dloc { uint64_t id, mapping, address; struct dline lines[8]; size_t nlines; };
struct dfunc { uint64_t id, name, system_name, filename; };
struct dmap { uint64_t id, start, limit, offset, filename, build_id, has_functions, has_lines; };
struct dprof {
  char *strings[MAXN * 2]; size_t nstrings;
  uint64_t types[4][2]; size_t ntypes;
  struct dsample samples[MAXN]; size_t nsamples;
  struct dloc locs[MAXN]; size_t nlocs;
  struct dfunc funcs[MAXN]; size_t nfuncs;
  struct dmap maps[8]; size_t nmaps;
  int64_t time_nanos, period; uint64_t period_type[2], default_type;
  uint64_t comments[4]; size_t ncomments;
};

static void decode(const uint8_t *buf, size_t len, struct dprof *d) {
  memset(d, 0, sizeof(*d));
  struct rd r = {buf, buf + len}, s, t, u;
  unsigned f, w, f2, w2, f3, w3;
  uint64_t v, v2, v3;
  while (rd_field(&r, &f, &w, &v, &s)) {
    switch (f) {
      case 1: case 11: { /* sample_type, period_type */
        uint64_t *vt = f == 1 ? d->types[d->ntypes++] : d->period_type;
        while (rd_field(&s, &f2, &w2, &v2, &t)) vt[f2 - 1] = v2;
        break;
      }
      case 2: {
        struct dsample *x = &d->samples[d->nsamples++];
        while (rd_field(&s, &f2, &w2, &v2, &t)) {
          if (f2 == 1) rd_repeated(w2, v2, &t, x->locs, &x->nlocs, MAXN);
          else if (f2 == 2) rd_repeated(w2, v2, &t, x->values, &x->nvalues, 4);
          else if (f2 == 3) {
            struct dlabel *l = &x->labels[x->nlabels++];
            while (rd_field(&t, &f3, &w3, &v3, &u)) {
              if (f3 == 1) l->key = v3;
              if (f3 == 2) l->str = v3;
              if (f3 == 3) l->num = (int64_t)v3;
              if (f3 == 4) l->unit = v3;
            }
          }
        }
        break;
      }
      case 3: {
        struct dmap *m = &d->maps[d->nmaps++];
        while (rd_field(&s, &f2, &w2, &v2, &t)) {
          uint64_t *fields[] = {NULL, &m->id, &m->start, &m->limit, &m->offset, &m->filename,
                                &m->build_id, &m->has_functions, NULL, &m->has_lines};
          if (f2 < 10 && fields[f2]) *fields[f2] = v2;
        }
        break;
      }
      case 4: {
        struct dloc *l = &d->locs[d->nlocs++];
        while (rd_field(&s, &f2, &w2, &v2, &t)) {
          if (f2 == 1) l->id = v2;
          if (f2 == 2) l->mapping = v2;
          if (f2 == 3) l->address = v2;
          if (f2 == 4) {
            struct dline *ln = &l->lines[l->nlines++];
            while (rd_field(&t, &f3, &w3, &v3, &u)) {
              if (f3 == 1) ln->function = v3;
              if (f3 == 2) ln->line = (int64_t)v3;
            }
          }
        }
        break;
      }
      case 5: {
        struct dfunc *x = &d->funcs[d->nfuncs++];
        while (rd_field(&s, &f2, &w2, &v2, &t)) {
          if (f2 == 1) x->id = v2;
          if (f2 == 2) x->name = v2;
          if (f2 == 3) x->system_name = v2;
          if (f2 == 4) x->filename = v2;
        }
        break;
      }
      case 6: {
        size_t n = (size_t)(s.end - s.p);
        char *str = malloc(n + 1);
        memcpy(str, s.p, n);
        str[n] = '\0';
        d->strings[d->nstrings++] = str;
        break;
      }
      case 9: d->time_nanos = (int64_t)v; break;
      case 12: d->period = (int64_t)v; break;
      case 13: rd_repeated(w, v, &s, d->comments, &d->ncomments, 4); break;
      case 14: d->default_type = v; break;
      default: break;
    }
  }
}

static void dprof_free(struct dprof *d) {
  for (size_t i = 0; i < d->nstrings; i++) free(d->strings[i]);
}

static const char *str(const struct dprof *d, uint64_t i) {
  assert_true(i < d->nstrings);
  return d->strings[i];
}
static const struct dloc *loc(const struct dprof *d, uint64_t id) {
  for (size_t i = 0; i < d->nlocs; i++)
    if (d->locs[i].id == id) return &d->locs[i];
  fail_msg("no location %llu", (unsigned long long)id);
  return NULL;
}
static const struct dfunc *func(const struct dprof *d, uint64_t id) {
  for (size_t i = 0; i < d->nfuncs; i++)
    if (d->funcs[i].id == id) return &d->funcs[i];
  fail_msg("no function %llu", (unsigned long long)id);
  return NULL;
}
static const char *loc_function(const struct dprof *d, uint64_t id, size_t line) {
  const struct dloc *l = loc(d, id);
  assert_true(line < l->nlines);
  return str(d, func(d, l->lines[line].function)->name);
}

/* --- the profile under test --- */

static uint32_t stack_of(const uintptr_t *pcs, int n) {
  uint32_t id = tw_depot_put(pcs, n);
  assert_int_not_equal(id, 0);
  return id;
}

static void block_profile(struct tw_profile *p) {
  static const struct tw_profile_type types[] = {{"contentions", "count"}, {"delay", "nanoseconds"}};
  tw_profile_init(p, "block", types, 2);
  p->default_type = 1;
  p->time_ns = 1700000000000000000ll;
  p->comment = tw_profile_intern(p, "rate 1");
  const uintptr_t a[] = {0x1010, 0x2020, 0x3030}, b[] = {0x9090, 0x3030}, c[] = {0x7f0010};
  struct tw_profile_sample s = {.stack = stack_of(a, 3), .values = {3, 3000}};
  tw_profile_label_str(p, tw_profile_add(p, &s), "object", "mutex 0x10 \"hot\"");
  s = (struct tw_profile_sample){.stack = stack_of(b, 2), .values = {1, 500}};
  tw_profile_label_num(tw_profile_add(p, &s), "thread", 7, NULL);
  s = (struct tw_profile_sample){.stack = stack_of(a, 3), .values = {2, 20}}; /* same stack again */
  tw_profile_add(p, &s);
  s = (struct tw_profile_sample){.stack = stack_of(c, 1), .values = {1, 0}};
  tw_profile_add(p, &s);
  s = (struct tw_profile_sample){.leaf = tw_profile_intern(p, "[running]"), .values = {1, 1}};
  tw_profile_add(p, &s);
}

static void test_pprof_tables_read_back(void **state) {
  (void)state;
  struct tw_profile p;
  block_profile(&p);
  uint8_t *buf = NULL;
  size_t len = 0;
  assert_int_equal(tw_pprof_encode(&p, &fake_env, &buf, &len), 0);
  struct dprof d;
  decode(buf, len, &d);
  /* The string table starts with "" and has each string once. */
  assert_true(d.nstrings > 0);
  assert_string_equal(d.strings[0], "");
  for (size_t i = 0; i < d.nstrings; i++)
    for (size_t j = i + 1; j < d.nstrings; j++) assert_string_not_equal(d.strings[i], d.strings[j]);
  /* Sample types, period type, default type, time, comment. */
  assert_int_equal(d.ntypes, 2);
  assert_string_equal(str(&d, d.types[0][0]), "contentions");
  assert_string_equal(str(&d, d.types[0][1]), "count");
  assert_string_equal(str(&d, d.types[1][0]), "delay");
  assert_string_equal(str(&d, d.types[1][1]), "nanoseconds");
  assert_string_equal(str(&d, d.period_type[0]), "contentions");
  assert_int_equal(d.period, 1);
  assert_string_equal(str(&d, d.default_type), "delay");
  assert_int_equal(d.time_nanos, 1700000000000000000ll);
  assert_int_equal(d.ncomments, 1);
  assert_string_equal(str(&d, d.comments[0]), "rate 1");
  /* Samples: leaf first, values and labels as given. */
  assert_int_equal(d.nsamples, 5);
  assert_int_equal(d.samples[0].nlocs, 3);
  assert_int_equal(d.samples[0].nvalues, 2);
  assert_int_equal(d.samples[0].values[0], 3);
  assert_int_equal(d.samples[0].values[1], 3000);
  assert_string_equal(loc_function(&d, d.samples[0].locs[0], 0), "leaf_fn");
  assert_string_equal(loc_function(&d, d.samples[0].locs[2], 0), "main");
  assert_int_equal(d.samples[0].nlabels, 1);
  assert_string_equal(str(&d, d.samples[0].labels[0].key), "object");
  assert_string_equal(str(&d, d.samples[0].labels[0].str), "mutex 0x10 \"hot\"");
  assert_int_equal(d.samples[1].nlabels, 1);
  assert_string_equal(str(&d, d.samples[1].labels[0].key), "thread");
  assert_int_equal(d.samples[1].labels[0].num, 7);
  assert_int_equal(d.samples[1].labels[0].str, 0);
  /* The same stack gives the same location ids; a value of 0 is kept (as 0). */
  assert_memory_equal(d.samples[2].locs, d.samples[0].locs, 3 * sizeof(uint64_t));
  assert_int_equal(d.samples[3].values[1], 0);
  /* One location per distinct pc: 0x1010, 0x2020, 0x3030, 0x9090, 0x7f0010 and the pseudo frame. */
  assert_int_equal(d.nlocs, 6);
  /* The inline chain: innermost first, the containing function last. */
  const struct dloc *l = loc(&d, d.samples[0].locs[1]);
  assert_int_equal(l->address, 0x2020);
  assert_int_equal(l->nlines, 2);
  assert_string_equal(loc_function(&d, l->id, 0), "inlined_fn");
  assert_string_equal(loc_function(&d, l->id, 1), "caller;fn");
  assert_int_equal(l->lines[0].line, 3);
  assert_int_equal(l->lines[1].line, 20);
  assert_string_equal(str(&d, func(&d, l->lines[1].function)->filename), "/src/b.c");
  /* Mappings: the two that locations use, with file, offset and build-id; the locations point at
   * them; a pc outside every mapping and the pseudo frame have none. */
  assert_int_equal(d.nmaps, 2);
  const struct dmap *app = NULL, *libc = NULL;
  for (size_t i = 0; i < d.nmaps; i++) {
    if (!strcmp(str(&d, d.maps[i].filename), "/bin/app")) app = &d.maps[i];
    if (!strcmp(str(&d, d.maps[i].filename), "/lib/libc.so.6")) libc = &d.maps[i];
  }
  assert_non_null(app);
  assert_non_null(libc);
  assert_int_equal(app->start, 0x1000);
  assert_int_equal(app->limit, 0x4000);
  assert_int_equal(app->offset, 0x1000);
  assert_string_equal(str(&d, app->build_id), "b1d0");
  assert_int_equal(app->has_functions, 1);
  assert_int_equal(app->has_lines, 1);
  assert_string_equal(str(&d, libc->build_id), "");
  assert_int_equal(loc(&d, d.samples[0].locs[0])->mapping, app->id);
  assert_int_equal(loc(&d, d.samples[3].locs[0])->mapping, libc->id);
  assert_int_equal(loc(&d, d.samples[1].locs[0])->mapping, 0); /* 0x9090: no mapping */
  assert_int_equal(d.samples[4].nlocs, 1);
  assert_string_equal(loc_function(&d, d.samples[4].locs[0], 0), "[running]");
  assert_int_equal(loc(&d, d.samples[4].locs[0])->mapping, 0);
  /* Every function and location id is used once; functions are unique by (name, file). */
  for (size_t i = 0; i < d.nfuncs; i++)
    for (size_t j = i + 1; j < d.nfuncs; j++) {
      assert_int_not_equal(d.funcs[i].id, d.funcs[j].id);
      assert_false(d.funcs[i].name == d.funcs[j].name && d.funcs[i].filename == d.funcs[j].filename);
    }
  dprof_free(&d);
  free(buf);
  tw_profile_free(&p);
}

static void test_pprof_negative_and_large_values(void **state) {
  (void)state;
  static const struct tw_profile_type types[] = {{"delay", "nanoseconds"}};
  struct tw_profile p;
  tw_profile_init(&p, "t", types, 1);
  const uintptr_t a[] = {0x1010};
  struct tw_profile_sample s = {.stack = stack_of(a, 1), .values = {-5}};
  tw_profile_add(&p, &s);
  s.values[0] = INT64_MAX;
  tw_profile_add(&p, &s);
  uint8_t *buf;
  size_t len;
  assert_int_equal(tw_pprof_encode(&p, &fake_env, &buf, &len), 0);
  struct dprof d;
  decode(buf, len, &d);
  assert_int_equal(d.nsamples, 2);
  assert_int_equal((int64_t)d.samples[0].values[0], -5); /* two's complement, ten bytes */
  assert_int_equal((int64_t)d.samples[1].values[0], INT64_MAX);
  dprof_free(&d);
  free(buf);
  tw_profile_free(&p);
}

static void test_pprof_gzip_inflates_back(void **state) {
  (void)state;
  struct tw_profile p;
  block_profile(&p);
  uint8_t *raw, *gz;
  size_t rawlen, gzlen;
  assert_int_equal(tw_pprof_encode(&p, &fake_env, &raw, &rawlen), 0);
  assert_int_equal(tw_pprof_gzip(raw, rawlen, &gz, &gzlen), 0);
  assert_true(gzlen > 18);
  assert_int_equal(gz[0], 0x1f); /* the gzip magic: what `go tool pprof` looks for */
  assert_int_equal(gz[1], 0x8b);
  uint8_t *back = malloc(rawlen + 16);
  z_stream z = {0};
  assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = gz;
  z.avail_in = (uInt)gzlen;
  z.next_out = back;
  z.avail_out = (uInt)(rawlen + 16);
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  assert_int_equal(z.total_out, rawlen);
  assert_memory_equal(back, raw, rawlen);
  inflateEnd(&z);
  free(back);
  free(raw);
  free(gz);
  tw_profile_free(&p);
}

static void test_pprof_empty_profile(void **state) {
  (void)state;
  static const struct tw_profile_type types[] = {{"threads", "count"}};
  struct tw_profile p;
  tw_profile_init(&p, "threads", types, 1);
  uint8_t *buf;
  size_t len;
  assert_int_equal(tw_pprof_encode(&p, &fake_env, &buf, &len), 0);
  struct dprof d;
  decode(buf, len, &d);
  assert_int_equal(d.nsamples, 0);
  assert_int_equal(d.ntypes, 1);
  assert_string_equal(d.strings[0], "");
  dprof_free(&d);
  free(buf);
  tw_profile_free(&p);
}

static void test_pprof_self_maps_are_sorted_executable_files(void **state) {
  (void)state;
  struct tw_pprof_mapping *m;
  size_t n;
  assert_int_equal(tw_pprof_self_maps(&m, &n), 0);
  assert_true(n > 0);
  bool found_self = false;
  uintptr_t here = (uintptr_t)&test_pprof_self_maps_are_sorted_executable_files;
  for (size_t i = 0; i < n; i++) {
    assert_true(m[i].start < m[i].limit);
    assert_true(m[i].file[0] == '/');
    if (i) assert_true(m[i - 1].limit <= m[i].start);
    if (here >= m[i].start && here < m[i].limit) found_self = strstr(m[i].file, "test_pprof") != NULL;
  }
  assert_true(found_self);
  free(m);
}

/* Another process's mappings, read through /proc/TID/maps: a child's (forked, so its executable
 * is mapped where ours is), and a pid that is gone is an error. */
static void test_pprof_proc_maps_of_another_process(void **state) {
  (void)state;
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    char c;
    close(go[1]);
    while (read(go[0], &c, 1) < 0) {
    }
    _exit(0);
  }
  close(go[0]);
  struct tw_pprof_mapping *m, *self;
  size_t n, nself;
  assert_int_equal(tw_pprof_proc_maps(child, &m, &n), 0);
  assert_int_equal(tw_pprof_self_maps(&self, &nself), 0);
  assert_true(n > 0);
  uintptr_t here = (uintptr_t)&test_pprof_proc_maps_of_another_process;
  bool found = false;
  for (size_t i = 0; i < n; i++) {
    assert_true(m[i].start < m[i].limit && m[i].file[0] == '/');
    if (i) assert_true(m[i - 1].limit <= m[i].start);
    if (here >= m[i].start && here < m[i].limit) found = strstr(m[i].file, "test_pprof") != NULL;
  }
  assert_true(found);
  assert_int_equal(n, nself);
  free(m);
  free(self);
  close(go[1]);
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(tw_pprof_proc_maps(child, &m, &n) < 0); /* reaped: no /proc/PID */
}

/* --- folded --- */

static char *folded(const struct tw_profile *p, int value) {
  FILE *f = tmpfile();
  assert_non_null(f);
  static struct tw_out o;
  tw_out_init(&o, fileno(f));
  tw_profile_folded(&o, p, value, fake_symbolize);
  assert_int_equal(tw_out_flush(&o), 0);
  long n = ftell(f) >= 0 ? lseek(fileno(f), 0, SEEK_END) : 0;
  char *text = calloc(1, (size_t)n + 1);
  assert_int_equal(pread(fileno(f), text, (size_t)n, 0), n);
  fclose(f);
  return text;
}

static void test_folded_root_first_summed(void **state) {
  (void)state;
  struct tw_profile p;
  block_profile(&p);
  char *delay = folded(&p, 1);
  /* Root first, inline frames their own, ';' in a name replaced, equal stacks summed, a zero value
   * left out, a pseudo frame as the leaf of an empty stack. */
  assert_string_equal(delay,
                      "main;caller?fn;inlined_fn;leaf_fn 3020\n"
                      "main;?? 500\n"
                      "[running] 1\n");
  free(delay);
  char *count = folded(&p, 0);
  assert_string_equal(count,
                      "main;caller?fn;inlined_fn;leaf_fn 5\n"
                      "main;?? 1\n"
                      "start_thread 1\n"
                      "[running] 1\n");
  free(count);
  char *none = folded(&p, 2); /* no such column: nothing */
  assert_string_equal(none, "");
  free(none);
  tw_profile_free(&p);
}

static void test_profile_intern_shares_recent_strings(void **state) {
  (void)state;
  struct tw_profile p;
  static const struct tw_profile_type types[] = {{"threads", "count"}};
  tw_profile_init(&p, "threads", types, 1);
  const char *a = tw_profile_intern(&p, "blocked");
  const char *b = tw_profile_intern(&p, "blocked");
  assert_ptr_equal(a, b);
  assert_int_equal(p.nstrs, 1);
  struct tw_profile_sample s = {0};
  for (int i = 0; i < TW_PROFILE_MAX_LABELS; i++) assert_true(tw_profile_label_num(&s, "k", i, NULL));
  assert_false(tw_profile_label_num(&s, "k", 99, NULL)); /* full: refused, not overrun */
  assert_int_equal(tw_profile_type_index(&p, "threads"), 0);
  assert_int_equal(tw_profile_type_index(&p, "delay"), -1);
  tw_profile_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pprof_tables_read_back),
      cmocka_unit_test(test_pprof_negative_and_large_values),
      cmocka_unit_test(test_pprof_gzip_inflates_back),
      cmocka_unit_test(test_pprof_empty_profile),
      cmocka_unit_test(test_pprof_self_maps_are_sorted_executable_files),
      cmocka_unit_test(test_pprof_proc_maps_of_another_process),
      cmocka_unit_test(test_folded_root_first_summed),
      cmocka_unit_test(test_profile_intern_shares_recent_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
