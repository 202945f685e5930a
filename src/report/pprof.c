/* pprof's profile.proto, encoded by hand and gzipped with zlib (field numbers: pprof.h). */
#include "report/pprof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>
#include <zlib.h>

#include "base/out.h"
#include "base/real.h"
#include "base/tw.h"
#include "report/symbolize.h"
#include "runtime/stackdepot.h"

/* Field numbers of github.com/google/pprof/proto/profile.proto. */
enum {
  PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
  PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9,
  PROFILE_DURATION_NANOS = 10, PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12,
  PROFILE_COMMENT = 13, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
  VALUETYPE_TYPE = 1, VALUETYPE_UNIT = 2,
  SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
  LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3, LABEL_NUM_UNIT = 4,
  MAPPING_ID = 1, MAPPING_MEMORY_START = 2, MAPPING_MEMORY_LIMIT = 3, MAPPING_FILE_OFFSET = 4,
  MAPPING_FILENAME = 5, MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7,
  MAPPING_HAS_FILENAMES = 8, MAPPING_HAS_LINE_NUMBERS = 9, MAPPING_HAS_INLINE_FRAMES = 10,
  LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4,
  LINE_FUNCTION_ID = 1, LINE_LINE = 2,
  FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
};
enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

/* --- a growable protobuf buffer ------------------------------------------------------------- */

struct pb {
  uint8_t *p;
  size_t len, cap;
  bool oom;
};

static void pb_raw(struct pb *b, const void *data, size_t n) {
  if (b->oom || n == 0) return; /* an empty part may have no buffer at all */
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    uint8_t *grown = realloc(b->p, cap);
    if (!grown) {
      b->oom = true;
      return;
    }
    b->p = grown;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void pb_varint(struct pb *b, uint64_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  do {
    tmp[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v) tmp[n] |= 0x80;
    n++;
  } while (v);
  pb_raw(b, tmp, n);
}

static void pb_key(struct pb *b, unsigned field, unsigned wire) {
  pb_varint(b, (uint64_t)field << 3 | wire);
}

/* A varint field; zero is the default and is left out (proto3). */
static void pb_uint(struct pb *b, unsigned field, uint64_t v) {
  if (!v) return;
  pb_key(b, field, WIRE_VARINT);
  pb_varint(b, v);
}
/* int64: negative values as their two's complement (ten bytes), as protobuf does. */
static void pb_int(struct pb *b, unsigned field, int64_t v) { pb_uint(b, field, (uint64_t)v); }

static void pb_bytes(struct pb *b, unsigned field, const void *data, size_t n) {
  pb_key(b, field, WIRE_LEN);
  pb_varint(b, n);
  pb_raw(b, data, n);
}

/* A nested message, encoded in `child`, appended as field `field`; child is emptied for reuse. */
static void pb_msg(struct pb *b, unsigned field, struct pb *child) {
  if (child->oom) b->oom = true;
  pb_bytes(b, field, child->p, child->len);
  child->len = 0;
}

/* A packed repeated varint field. */
static void pb_packed(struct pb *b, unsigned field, const uint64_t *v, size_t n, struct pb *tmp) {
  if (!n) return;
  tmp->len = 0;
  for (size_t i = 0; i < n; i++) pb_varint(tmp, v[i]);
  pb_msg(b, field, tmp);
}

/* --- the tables --------------------------------------------------------------------------- */

struct strent {
  const char *s; /* points into the profile, the frames' cache, or a literal: valid while encoding */
  uint64_t index;
  UT_hash_handle hh;
};

struct funcent {
  struct { uint64_t name, file; } key;
  uint64_t id;
  UT_hash_handle hh;
};

struct locent {
  uintptr_t key; /* the pc; a pseudo frame's string index with the top bit set */
  uint64_t id;
  UT_hash_handle hh;
};

struct enc {
  const struct tw_pprof_env *env;
  struct pb strings, functions, locations, tmp, tmp2;
  struct strent *strs;
  uint64_t nstrs;
  struct funcent *funcs;
  uint64_t nfuncs;
  struct locent *locs;
  uint64_t nlocs;
  /* Per mapping of env: whether a location used it (it is then written), whether any of its
   * locations had a symbol, and its build-id (from the first frame that had one). */
  bool *map_used, *map_symbols;
  const char **map_build_id;
  bool oom;
};

static uint64_t str_index(struct enc *e, const char *s) {
  if (!s) s = "";
  struct strent *f = NULL;
  HASH_FIND_STR(e->strs, s, f);
  if (f) return f->index;
  f = calloc(1, sizeof(*f));
  if (!f) {
    e->oom = true;
    return 0;
  }
  f->s = s;
  f->index = e->nstrs++;
  HASH_ADD_KEYPTR(hh, e->strs, f->s, strlen(f->s), f);
  pb_bytes(&e->strings, PROFILE_STRING_TABLE, s, strlen(s));
  return f->index;
}

static uint64_t function_id(struct enc *e, const char *name, const char *file) {
  struct funcent k = {.key = {str_index(e, name), str_index(e, file)}}, *f = NULL;
  HASH_FIND(hh, e->funcs, &k.key, sizeof(k.key), f);
  if (f) return f->id;
  f = calloc(1, sizeof(*f));
  if (!f) {
    e->oom = true;
    return 0;
  }
  f->key = k.key;
  f->id = ++e->nfuncs;
  HASH_ADD(hh, e->funcs, key, sizeof(f->key), f);
  struct pb *m = &e->tmp2;
  m->len = 0;
  pb_uint(m, FUNCTION_ID, f->id);
  pb_uint(m, FUNCTION_NAME, f->key.name);
  pb_uint(m, FUNCTION_SYSTEM_NAME, f->key.name);
  pb_uint(m, FUNCTION_FILENAME, f->key.file);
  pb_msg(&e->functions, PROFILE_FUNCTION, m);
  return f->id;
}

/* Index in env->maps of the mapping that holds pc, or -1. */
static long mapping_of(const struct tw_pprof_env *env, uintptr_t pc) {
  size_t lo = 0, hi = env->nmaps;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (pc < env->maps[mid].start) hi = mid;
    else if (pc >= env->maps[mid].limit) lo = mid + 1;
    else return (long)mid;
  }
  return -1;
}

/* The location of a pc (a return address, as the depot keeps them), made on first use. */
static uint64_t location_id(struct enc *e, uintptr_t pc) {
  struct locent *f = NULL;
  HASH_FIND(hh, e->locs, &pc, sizeof(pc), f);
  if (f) return f->id;
  f = calloc(1, sizeof(*f));
  if (!f) {
    e->oom = true;
    return 0;
  }
  f->key = pc;
  f->id = ++e->nlocs;
  HASH_ADD(hh, e->locs, key, sizeof(f->key), f);
  struct tw_frame fr[TW_MAX_INLINE];
  int nf = e->env->symbolize(pc, fr, TW_MAX_INLINE);
  long map = mapping_of(e->env, pc);
  struct pb *m = &e->tmp;
  m->len = 0;
  pb_uint(m, LOCATION_ID, f->id);
  if (map >= 0) {
    pb_uint(m, LOCATION_MAPPING_ID, (uint64_t)map + 1);
    e->map_used[map] = true;
  }
  pb_uint(m, LOCATION_ADDRESS, pc);
  /* Lines: the inline chain innermost first, the function that contains the pc last (pprof's
   * order, and tw_symbolize's). */
  for (int j = 0; j < nf; j++) {
    bool known = strcmp(fr[j].function, "??") != 0;
    if (map >= 0 && known) e->map_symbols[map] = true;
    if (map >= 0 && fr[j].build_id && !e->map_build_id[map]) e->map_build_id[map] = fr[j].build_id;
    struct pb *line = &e->tmp2;
    uint64_t fid = function_id(e, fr[j].function, fr[j].file);
    line->len = 0;
    pb_uint(line, LINE_FUNCTION_ID, fid);
    pb_int(line, LINE_LINE, fr[j].line);
    pb_msg(m, LOCATION_LINE, line);
  }
  pb_msg(&e->locations, PROFILE_LOCATION, m);
  return f->id;
}

/* A pseudo frame ("[running]"): a location of its own with one line, no mapping, no address. */
static uint64_t pseudo_location_id(struct enc *e, const char *name) {
  uintptr_t key = (uintptr_t)str_index(e, name) | (uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1);
  struct locent *f = NULL;
  HASH_FIND(hh, e->locs, &key, sizeof(key), f);
  if (f) return f->id;
  f = calloc(1, sizeof(*f));
  if (!f) {
    e->oom = true;
    return 0;
  }
  f->key = key;
  f->id = ++e->nlocs;
  HASH_ADD(hh, e->locs, key, sizeof(f->key), f);
  uint64_t fid = function_id(e, name, "");
  struct pb *m = &e->tmp, *line = &e->tmp2;
  m->len = 0;
  pb_uint(m, LOCATION_ID, f->id);
  line->len = 0;
  pb_uint(line, LINE_FUNCTION_ID, fid);
  pb_msg(m, LOCATION_LINE, line);
  pb_msg(&e->locations, PROFILE_LOCATION, m);
  return f->id;
}

static void value_type(struct enc *e, struct pb *out, unsigned field,
                       const struct tw_profile_type *t) {
  struct pb *m = &e->tmp;
  m->len = 0;
  pb_uint(m, VALUETYPE_TYPE, str_index(e, t->type));
  pb_uint(m, VALUETYPE_UNIT, str_index(e, t->unit));
  pb_msg(out, field, m);
}

static void encode_sample(struct enc *e, struct pb *out, const struct tw_profile_sample *s,
                          unsigned ntypes) {
  uint64_t ids[TW_STACK_MAX_FRAMES + 1];
  size_t n = 0;
  if (s->leaf) ids[n++] = pseudo_location_id(e, s->leaf);
  const uintptr_t *pcs;
  int np = tw_depot_get(s->stack, &pcs);
  for (int i = 0; i < np && n < TW_ARRAY_LEN(ids); i++) ids[n++] = location_id(e, pcs[i]);
  uint64_t values[TW_PROFILE_MAX_TYPES];
  for (unsigned i = 0; i < ntypes; i++) values[i] = (uint64_t)s->values[i];
  /* Labels first into their own buffer: they intern strings, which must not interleave with the
   * sample's own bytes in e->tmp. */
  struct pb labels = {0};
  for (unsigned i = 0; i < s->nlabels; i++) {
    const struct tw_profile_label *l = &s->labels[i];
    struct pb *m = &e->tmp2;
    m->len = 0;
    pb_uint(m, LABEL_KEY, str_index(e, l->key));
    if (l->str) pb_uint(m, LABEL_STR, str_index(e, l->str));
    else pb_int(m, LABEL_NUM, l->num);
    if (!l->str && l->unit) pb_uint(m, LABEL_NUM_UNIT, str_index(e, l->unit));
    pb_msg(&labels, SAMPLE_LABEL, m);
  }
  struct pb sample = {0};
  pb_packed(&sample, SAMPLE_LOCATION_ID, ids, n, &e->tmp);
  pb_packed(&sample, SAMPLE_VALUE, values, ntypes, &e->tmp);
  pb_raw(&sample, labels.p, labels.len);
  if (labels.oom) sample.oom = true;
  pb_msg(out, PROFILE_SAMPLE, &sample);
  free(labels.p);
  free(sample.p);
}

int tw_pprof_encode(const struct tw_profile *p, const struct tw_pprof_env *env, uint8_t **out,
                    size_t *len) {
  struct enc e = {.env = env};
  size_t nm = env->nmaps ? env->nmaps : 1;
  e.map_used = calloc(nm, sizeof(bool));
  e.map_symbols = calloc(nm, sizeof(bool));
  e.map_build_id = calloc(nm, sizeof(char *));
  struct pb head = {0}, samples = {0}, mappings = {0}, tail = {0};
  int rc = 0;
  if (!e.map_used || !e.map_symbols || !e.map_build_id) {
    rc = -ENOMEM;
    goto done;
  }
  str_index(&e, ""); /* string_table[0] must be "" */
  for (unsigned i = 0; i < p->ntypes; i++)
    value_type(&e, &head, PROFILE_SAMPLE_TYPE, &p->types[i]);
  for (size_t i = 0; i < p->n; i++) encode_sample(&e, &samples, &p->samples[i], p->ntypes);
  for (size_t i = 0; i < env->nmaps; i++) {
    if (!e.map_used[i]) continue;
    const struct tw_pprof_mapping *mp = &env->maps[i];
    struct pb *m = &e.tmp;
    uint64_t file = str_index(&e, mp->file), build = str_index(&e, e.map_build_id[i]);
    m->len = 0;
    pb_uint(m, MAPPING_ID, i + 1);
    pb_uint(m, MAPPING_MEMORY_START, mp->start);
    pb_uint(m, MAPPING_MEMORY_LIMIT, mp->limit);
    pb_uint(m, MAPPING_FILE_OFFSET, mp->offset);
    pb_uint(m, MAPPING_FILENAME, file);
    pb_uint(m, MAPPING_BUILD_ID, build);
    if (e.map_symbols[i]) {
      pb_uint(m, MAPPING_HAS_FUNCTIONS, 1);
      pb_uint(m, MAPPING_HAS_FILENAMES, 1);
      pb_uint(m, MAPPING_HAS_LINE_NUMBERS, 1);
      pb_uint(m, MAPPING_HAS_INLINE_FRAMES, 1);
    }
    pb_msg(&mappings, PROFILE_MAPPING, m);
  }
  pb_int(&tail, PROFILE_TIME_NANOS, p->time_ns);
  pb_int(&tail, PROFILE_DURATION_NANOS, p->duration_ns);
  if (p->period_type.type) value_type(&e, &tail, PROFILE_PERIOD_TYPE, &p->period_type);
  pb_int(&tail, PROFILE_PERIOD, p->period);
  if (p->comment) {
    uint64_t c = str_index(&e, p->comment);
    pb_key(&tail, PROFILE_COMMENT, WIRE_VARINT);
    pb_varint(&tail, c);
  }
  if (p->default_type < p->ntypes)
    pb_uint(&tail, PROFILE_DEFAULT_SAMPLE_TYPE, str_index(&e, p->types[p->default_type].type));
  /* Fields may come in any order: the tables are appended after the samples that made them. */
  pb_raw(&head, samples.p, samples.len);
  pb_raw(&head, mappings.p, mappings.len);
  pb_raw(&head, e.locations.p, e.locations.len);
  pb_raw(&head, e.functions.p, e.functions.len);
  pb_raw(&head, e.strings.p, e.strings.len);
  pb_raw(&head, tail.p, tail.len);
  if (e.oom || head.oom || samples.oom || mappings.oom || tail.oom || e.locations.oom ||
      e.functions.oom || e.strings.oom || e.tmp.oom || e.tmp2.oom)
    rc = -ENOMEM;
done:
  if (rc == 0) {
    *out = head.p;
    *len = head.len;
    head.p = NULL;
  }
  free(head.p);
  free(samples.p);
  free(mappings.p);
  free(tail.p);
  free(e.locations.p);
  free(e.functions.p);
  free(e.strings.p);
  free(e.tmp.p);
  free(e.tmp2.p);
  struct strent *s, *st;
  HASH_ITER(hh, e.strs, s, st) {
    HASH_DEL(e.strs, s);
    free(s);
  }
  struct funcent *f, *ft;
  HASH_ITER(hh, e.funcs, f, ft) {
    HASH_DEL(e.funcs, f);
    free(f);
  }
  struct locent *l, *lt;
  HASH_ITER(hh, e.locs, l, lt) {
    HASH_DEL(e.locs, l);
    free(l);
  }
  free(e.map_used);
  free(e.map_symbols);
  free(e.map_build_id);
  return rc;
}

int tw_pprof_gzip(const uint8_t *in, size_t n, uint8_t **out, size_t *len) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  /* windowBits 15 + 16: a gzip header and trailer around the deflate stream. */
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return -ENOMEM;
  size_t cap = deflateBound(&z, (uLong)n) + 32;
  uint8_t *buf = malloc(cap);
  if (!buf) {
    deflateEnd(&z);
    return -ENOMEM;
  }
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)n;
  z.next_out = buf;
  z.avail_out = (uInt)cap;
  int zr = deflate(&z, Z_FINISH);
  size_t got = cap - z.avail_out;
  deflateEnd(&z);
  if (zr != Z_STREAM_END) {
    free(buf);
    return -ENOMEM;
  }
  *out = buf;
  *len = got;
  return 0;
}

/* Reads a whole /proc file into a malloc'd, NUL-terminated buffer. */
static char *slurp(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  fd = tw__fd_move_high(fd); /* the program's own opens meanwhile get the numbers they would */
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (len + 1 == cap) {
      char *grown = realloc(buf, cap * 2);
      if (!grown) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      cap *= 2;
    }
    ssize_t r = TW_REAL_FN(read)(fd, buf + len, cap - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  tw__close(fd);
  if (buf) buf[len] = '\0';
  return buf;
}

static int by_start(const void *a, const void *b) {
  const struct tw_pprof_mapping *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* The executable mappings of the maps file at `path`. */
static int maps_of(const char *path, struct tw_pprof_mapping **maps, size_t *n) {
  char *text = slurp(path);
  if (!text) return -errno ? -errno : -ENOMEM;
  size_t lines = 1, bytes = strlen(text) + 1;
  for (char *c = text; *c; c++) lines += *c == '\n';
  /* One block: the array, then the file names. */
  struct tw_pprof_mapping *m = malloc(lines * sizeof(*m) + bytes);
  if (!m) {
    free(text);
    return -ENOMEM;
  }
  char *names = (char *)(m + lines);
  size_t k = 0;
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    unsigned long start, end, offset;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &offset, &path_at) < 4)
      continue;
    if (perms[2] != 'x' || !path_at || line[path_at] != '/') continue; /* executable files only */
    size_t nl = strlen(line + path_at) + 1;
    memcpy(names, line + path_at, nl);
    m[k++] = (struct tw_pprof_mapping){start, end, offset, names};
    names += nl;
  }
  free(text);
  qsort(m, k, sizeof(*m), by_start);
  *maps = m;
  *n = k;
  return 0;
}

int tw_pprof_self_maps(struct tw_pprof_mapping **maps, size_t *n) {
  return maps_of("/proc/self/maps", maps, n);
}

int tw_pprof_proc_maps(int tid, struct tw_pprof_mapping **maps, size_t *n) {
  char path[48];
  snprintf(path, sizeof(path), "/proc/%d/maps", tid);
  return maps_of(path, maps, n);
}

int tw_pprof_write(struct tw_out *o, const struct tw_profile *p) {
  struct tw_pprof_mapping *maps = NULL;
  size_t nmaps = 0;
  tw_pprof_self_maps(&maps, &nmaps); /* without it, locations have no mapping: still readable */
  struct tw_pprof_env env = {tw_symbolize, maps, nmaps};
  uint8_t *raw = NULL, *gz = NULL;
  size_t rawlen = 0, gzlen = 0;
  int rc = tw_pprof_encode(p, &env, &raw, &rawlen);
  if (rc == 0) rc = tw_pprof_gzip(raw, rawlen, &gz, &gzlen);
  if (rc == 0) tw_out_write(o, (const char *)gz, gzlen);
  free(raw);
  free(gz);
  free(maps);
  return rc;
}
