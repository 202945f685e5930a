/* The thread, block and mutex profiles of this process, and the contention table. */
#include "report/profiles.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/options.h"
#include "base/tw.h"
#include "report/build.h"
#include "report/format.h"
#include "report/pprof.h"
#include "report/symbolize.h"
#include "report/writer.h"
#include "runtime/calls.h"
#include "runtime/contention.h"
#include "runtime/fdtrack.h"
#include "runtime/names.h"
#include "runtime/registry.h"

/* Running threads whose stacks are read for the thread profile (as for the dump: each read costs a
 * few hundred system calls); past it they are "[running]". */
#define PROFILE_LOCATE_MAX 256

static const char *const kind_names[TW_PROFILE_KINDS] = {"threads", "block", "mutex"};

const char *tw_profile_kind_name(enum tw_profile_kind k) {
  return (unsigned)k < TW_PROFILE_KINDS ? kind_names[k] : "?";
}

int tw_profile_kind_parse(const char *s) {
  for (int k = 0; k < TW_PROFILE_KINDS; k++)
    if (strcmp(s, kind_names[k]) == 0) return k;
  return -1;
}

static int64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* "block,mutex", "block", "mutex" or "off": THREADWATCH_PROFILE as it is in force. */
static const char *profile_words(void) {
  static const char *const words[] = {"off", "block", "mutex", "block,mutex"};
  return words[tw_profile_on() & 3];
}

/* --- threads ------------------------------------------------------------------------------- */

static int build_threads(struct tw_profile *p) {
  static const struct tw_profile_type types[] = {{"threads", "count"}};
  tw_profile_init(p, "threads", types, 1);
  p->time_ns = wall_ns();
  size_t n = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&n);
  if (!snaps) return -ENOMEM;
  uint64_t now = tw__now_ns();
  size_t located = 0;
  for (size_t i = 0; i < n; i++) {
    const struct tw_thread_snap *sn = &snaps[i];
    /* Live threads, and those that exited and still wait for a join (a leak in progress). */
    if (sn->life == TW_LIFE_EXITED &&
        (sn->adopted || sn->join != TW_JOINABLE || sn->joining || sn->detaching))
      continue;
    struct tw_report_thread rt;
    tw_report_thread_from_snap(&rt, sn, now);
    if (rt.state == TW_TS_RUNNING && located++ < PROFILE_LOCATE_MAX) tw_report_thread_locate(&rt);
    struct tw_profile_sample s = {.stack = rt.stack, .values = {1}};
    if (!s.stack)
      s.leaf = tw_profile_intern(p, rt.state == TW_TS_EXITED ? "[exited, not joined]"
                                                             : "[running]");
    struct tw_profile_sample *x = tw_profile_add(p, &s);
    if (!x) break;
    tw_profile_label_str(p, x, "state", tw_state_name(rt.state));
    if (tw_tstate_waits(rt.state)) {
      tw_profile_label_str(p, x, "wait", tw_call_name(rt.wait.call));
      tw_profile_label_str(p, x, "object", rt.object);
    }
    if (rt.name[0]) tw_profile_label_str(p, x, "name", rt.name);
    tw_profile_label_num(x, "thread", (int64_t)rt.id, NULL);
    if (rt.created_at) {
      char where[256];
      tw_report_where(rt.created_at, where, sizeof(where));
      tw_profile_label_str(p, x, "created_at", where);
    }
  }
  free(snaps);
  return p->oom ? -ENOMEM : 0;
}

/* --- block and mutex ------------------------------------------------------------------------ */

/* The object of a record, as reports describe it: `mutex 0x... "name"`, `condvar 0x...`,
 * `thread T3`, `pipe fd 5`. */
static void describe(const struct tw_contention *c, char *buf, size_t n) {
  switch (c->wclass) {
    case TW_WC_MUTEX: tw_names_describe(buf, n, "mutex", c->obj); break;
    case TW_WC_RWLOCK: tw_names_describe(buf, n, "rwlock", c->obj); break;
    case TW_WC_SPIN: tw_names_describe(buf, n, "spinlock", c->obj); break;
    case TW_WC_SEM: tw_names_describe(buf, n, "semaphore", c->obj); break;
    case TW_WC_BARRIER: tw_names_describe(buf, n, "barrier", c->obj); break;
    case TW_WC_FUTEX: snprintf(buf, n, "futex word %#lx", (unsigned long)c->obj); break;
    case TW_WC_COND: tw_names_describe(buf, n, "condvar", c->obj); break;
    case TW_WC_JOIN: /* recorded by T-number (hooks/profile.c), 0 for a thread we never knew */
      if (c->obj) snprintf(buf, n, "thread T%llu", (unsigned long long)c->obj);
      else snprintf(buf, n, "a thread threadwatch does not know");
      break;
    case TW_WC_FD: {
      uint8_t kind = tw_fd_get((int)c->obj);
      snprintf(buf, n, "%s fd %d", kind ? tw_fd_kind_name(kind) : "fd", (int)c->obj);
      break;
    }
    default: snprintf(buf, n, "%s %#lx", tw_wait_class_name((enum tw_wait_class)c->wclass),
                      (unsigned long)c->obj);
  }
}

static int build_contention(struct tw_profile *p, enum tw_profile_kind k) {
  static const struct tw_profile_type types[] = {{"contentions", "count"},
                                                 {"delay", "nanoseconds"}};
  tw_profile_init(p, kind_names[k], types, 2);
  p->default_type = 1;
  p->time_ns = wall_ns();
  char comment[160];
  snprintf(comment, sizeof(comment),
           "threadwatch %s profile: THREADWATCH_PROFILE=%s, 1 in %u events recorded (scaled), %llu "
           "lost to full tables",
           kind_names[k], profile_words(), __atomic_load_n(&tw__profile_rate, __ATOMIC_RELAXED),
           (unsigned long long)tw_contention_dropped());
  p->comment = tw_profile_intern(p, comment);
  struct tw_contention *all = NULL;
  long n = tw_contention_snapshot(&all);
  if (n < 0) return (int)n;
  uint8_t want = k == TW_PROFILE_BLOCK ? TW_PROF_BLOCK : TW_PROF_MUTEX;
  for (long i = 0; i < n; i++) {
    if (all[i].kind != want) continue;
    struct tw_profile_sample s = {.stack = all[i].stack,
                                  .values = {(int64_t)all[i].count, (int64_t)all[i].delay_ns}};
    if (!s.stack) s.leaf = tw_profile_intern(p, "[stack unavailable]");
    struct tw_profile_sample *x = tw_profile_add(p, &s);
    if (!x) break;
    char what[128];
    describe(&all[i], what, sizeof(what));
    tw_profile_label_str(p, x, "object", what);
  }
  free(all);
  return p->oom ? -ENOMEM : 0;
}

int tw_profiles_build(struct tw_profile *p, enum tw_profile_kind k) {
  switch (k) {
    case TW_PROFILE_THREADS: return build_threads(p);
    case TW_PROFILE_BLOCK:
    case TW_PROFILE_MUTEX: return build_contention(p, k);
    default: return -EINVAL;
  }
}

int tw_profiles_write(struct tw_out *o, enum tw_profile_kind k, bool folded) {
  struct tw_profile p;
  int rc = tw_profiles_build(&p, k);
  if (rc == 0) {
    if (folded) tw_profile_folded(o, &p, p.default_type, tw_symbolize);
    else rc = tw_pprof_write(o, &p);
  }
  tw_profile_free(&p);
  return rc;
}

/* --- the contention table --------------------------------------------------------------------- */

/* A wait, to three significant digits down to the nanosecond: "850ns", "12.3us", "4.56ms", "2.50s"
 * (report/format.c's durations stop at the millisecond, fine for stalls, not for lock waits). */
static void fine_duration(char *buf, size_t n, uint64_t ns) {
  static const struct { uint64_t scale; const char *unit; } units[] = {
      {1000000000ull, "s"}, {1000000ull, "ms"}, {1000ull, "us"}};
  for (size_t i = 0; i < TW_ARRAY_LEN(units); i++) {
    if (ns < units[i].scale) continue;
    double v = (double)ns / (double)units[i].scale;
    snprintf(buf, n, v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, units[i].unit);
    return;
  }
  snprintf(buf, n, "%lluns", (unsigned long long)ns);
}

/* One stack of one side of a lock: its events and delay. */
struct side_stack {
  uint32_t stack;
  uint64_t count, delay;
};

struct lock_row {
  uintptr_t obj;
  uint8_t wclass;
  uint64_t waits, wait_ns, max_ns;       /* the waiters' side (block records) */
  uint64_t unlocks, delay_ns;            /* the holders' side (mutex records) */
  struct side_stack waiters[TW_CONTENTION_TOP_STACKS], holders[TW_CONTENTION_TOP_STACKS];
};

static bool is_lock(uint8_t wclass) {
  return wclass == TW_WC_MUTEX || wclass == TW_WC_RWLOCK || wclass == TW_WC_SPIN;
}

static const char *lock_word(uint8_t wclass) {
  return wclass == TW_WC_RWLOCK ? "rwlock" : wclass == TW_WC_SPIN ? "spinlock" : "mutex";
}

/* Keeps the top stacks by delay in top[TW_CONTENTION_TOP_STACKS], largest first, unused entries
 * (count 0) last; a stack seen again adds up. */
static void keep_top(struct side_stack *top, const struct tw_contention *c) {
  enum { N = TW_CONTENTION_TOP_STACKS };
  unsigned at = N;
  for (unsigned i = 0; i < N && at == N; i++)
    if (top[i].count && top[i].stack == c->stack) at = i;
  if (at < N) {
    top[at].count += c->count;
    top[at].delay += c->delay_ns;
  } else if (!top[N - 1].count || top[N - 1].delay < c->delay_ns) {
    top[N - 1] = (struct side_stack){c->stack, c->count, c->delay_ns};
  } else {
    return;
  }
  for (unsigned i = 1; i < N; i++) /* insertion sort of three */
    for (unsigned j = i; j > 0; j--) {
      bool swap = top[j].count && (!top[j - 1].count || top[j - 1].delay < top[j].delay);
      if (!swap) break;
      struct side_stack tmp = top[j - 1];
      top[j - 1] = top[j];
      top[j] = tmp;
    }
}

static uint64_t row_total(const struct lock_row *r) { return r->waits ? r->wait_ns : r->delay_ns; }

static int by_total_desc(const void *a, const void *b) {
  const struct lock_row *x = a, *y = b;
  uint64_t tx = row_total(x), ty = row_total(y);
  if (tx != ty) return tx > ty ? -1 : 1;
  return x->obj < y->obj ? -1 : x->obj > y->obj;
}

/* The contended locks, sorted by total wait (*n of them), in a malloc'd array; totals of all. */
struct table {
  struct lock_row *rows;
  size_t n;
  uint64_t waits, wait_ns;
};

static int table_collect(struct table *t) {
  memset(t, 0, sizeof(*t));
  struct tw_contention *all = NULL;
  long n = tw_contention_snapshot(&all);
  if (n < 0) return (int)n;
  t->rows = calloc(n ? (size_t)n : 1, sizeof(*t->rows));
  if (!t->rows) {
    free(all);
    return -ENOMEM;
  }
  for (long i = 0; i < n; i++) {
    const struct tw_contention *c = &all[i];
    if (!is_lock(c->wclass)) continue;
    struct lock_row *r = NULL;
    for (size_t k = 0; k < t->n && !r; k++) /* few locks are contended: a scan is enough */
      if (t->rows[k].obj == c->obj && t->rows[k].wclass == c->wclass) r = &t->rows[k];
    if (!r) {
      r = &t->rows[t->n++];
      r->obj = c->obj;
      r->wclass = c->wclass;
    }
    if (c->kind == TW_PROF_BLOCK) {
      r->waits += c->count;
      r->wait_ns += c->delay_ns;
      if (c->max_ns > r->max_ns) r->max_ns = c->max_ns;
      t->waits += c->count;
      t->wait_ns += c->delay_ns;
      keep_top(r->waiters, c);
    } else {
      r->unlocks += c->count;
      r->delay_ns += c->delay_ns;
      keep_top(r->holders, c);
    }
  }
  free(all);
  qsort(t->rows, t->n, sizeof(*t->rows), by_total_desc);
  return 0;
}

static void lock_label(const struct lock_row *r, char *buf, size_t n) {
  char name[TW_NAME_BYTES], sym[96];
  tw_names_get(r->obj, name, sizeof(name));
  bool has_sym = tw_symbolize_data(r->obj, sym, sizeof(sym));
  snprintf(buf, n, "%s %#lx%s%s%s%s%s%s", lock_word(r->wclass),
           (unsigned long)r->obj, name[0] ? " \"" : "", name, name[0] ? "\"" : "",
           has_sym ? " (" : "", has_sym ? sym : "", has_sym ? ")" : "");
}

static void table_text(struct tw_out *o, const struct table *t) {
  char total[32];
  fine_duration(total, sizeof(total), t->wait_ns);
  long pid = (long)getpid();
  if (!t->n) {
    tw_out_fmt(o, "==%ld== threadwatch: contention: no lock was contended (THREADWATCH_PROFILE=%s)\n",
               pid, profile_words());
    return;
  }
  tw_out_fmt(o,
             "==%ld== threadwatch: contention: %zu lock%s contended, %llu contention%s, %s waited "
             "in all (THREADWATCH_PROFILE=%s, 1 in %u recorded)\n",
             pid, t->n, t->n == 1 ? " was" : "s were", (unsigned long long)t->waits,
             t->waits == 1 ? "" : "s", total, profile_words(),
             __atomic_load_n(&tw__profile_rate, __ATOMIC_RELAXED));
  tw_out_fmt(o, "  %3s %12s %12s %12s %12s  %s\n", "#", "contentions", "total wait", "max wait",
             "held, delay", "lock");
  size_t shown = t->n < TW_CONTENTION_TOP_LOCKS ? t->n : TW_CONTENTION_TOP_LOCKS;
  for (size_t i = 0; i < shown; i++) {
    const struct lock_row *r = &t->rows[i];
    char wait[32], max[32], delay[32], label[256];
    fine_duration(wait, sizeof(wait), r->wait_ns);
    fine_duration(max, sizeof(max), r->max_ns);
    fine_duration(delay, sizeof(delay), r->delay_ns);
    lock_label(r, label, sizeof(label));
    tw_out_fmt(o, "  %3zu %12llu %12s %12s %12s  %s\n", i + 1, (unsigned long long)r->waits, wait,
               max, r->unlocks ? delay : "-", label);
  }
  if (t->n > shown) tw_out_fmt(o, "  ... and %zu more contended locks\n", t->n - shown);
  for (size_t i = 0; i < shown; i++) {
    const struct lock_row *r = &t->rows[i];
    char label[256];
    lock_label(r, label, sizeof(label));
    tw_out_fmt(o, "  lock #%zu, %s:\n", i + 1, label);
    for (unsigned k = 0; k < TW_CONTENTION_TOP_STACKS && r->waiters[k].count; k++) {
      char d[32];
      fine_duration(d, sizeof(d), r->waiters[k].delay);
      tw_out_fmt(o, "   waited for at (%llu contentions, %s):\n",
                 (unsigned long long)r->waiters[k].count, d);
      tw_report_text_stack(o, r->waiters[k].stack, "    ");
    }
    for (unsigned k = 0; k < TW_CONTENTION_TOP_STACKS && r->holders[k].count; k++) {
      char d[32];
      fine_duration(d, sizeof(d), r->holders[k].delay);
      tw_out_fmt(o, "   held, released with waiters at (%llu unlocks, %s of delay):\n",
                 (unsigned long long)r->holders[k].count, d);
      tw_report_text_stack(o, r->holders[k].stack, "    ");
    }
  }
  tw_out_str(o, "\n");
}

static void json_side(struct tw_out *o, const char *name, const char *delay_key,
                      const struct side_stack *top) {
  tw_out_fmt(o, ",\"%s\":[", name);
  for (unsigned k = 0; k < TW_CONTENTION_TOP_STACKS && top[k].count; k++) {
    tw_out_fmt(o, "%s{\"contentions\":%llu,\"%s\":%llu,\"stack\":", k ? "," : "",
               (unsigned long long)top[k].count, delay_key, (unsigned long long)top[k].delay);
    tw_report_json_stack(o, top[k].stack);
    tw_out_str(o, "}");
  }
  tw_out_str(o, "]");
}

static void table_json(struct tw_out *o, const struct table *t) {
  tw_out_fmt(o,
             "{\"contention\":{\"pid\":%ld,\"profile\":\"%s\",\"rate\":%u,\"dropped\":%llu,"
             "\"locks_contended\":%zu,\"contentions\":%llu,\"wait_ns\":%llu,\"locks\":[",
             (long)getpid(), profile_words(), __atomic_load_n(&tw__profile_rate, __ATOMIC_RELAXED),
             (unsigned long long)tw_contention_dropped(), t->n, (unsigned long long)t->waits,
             (unsigned long long)t->wait_ns);
  size_t shown = t->n < TW_CONTENTION_TOP_LOCKS ? t->n : TW_CONTENTION_TOP_LOCKS;
  for (size_t i = 0; i < shown; i++) {
    const struct lock_row *r = &t->rows[i];
    char name[TW_NAME_BYTES], sym[96];
    tw_names_get(r->obj, name, sizeof(name));
    tw_out_fmt(o, "%s{\"rank\":%zu,\"address\":\"%#lx\",\"kind\":\"%s\",\"name\":", i ? "," : "",
               i + 1, (unsigned long)r->obj, lock_word(r->wclass));
    tw_out_json_str(o, name);
    if (tw_symbolize_data(r->obj, sym, sizeof(sym))) {
      tw_out_str(o, ",\"symbol\":");
      tw_out_json_str(o, sym);
    }
    tw_out_fmt(o,
               ",\"contentions\":%llu,\"wait_ns\":%llu,\"max_wait_ns\":%llu,"
               "\"unlocks_with_waiters\":%llu,\"delay_ns\":%llu",
               (unsigned long long)r->waits, (unsigned long long)r->wait_ns,
               (unsigned long long)r->max_ns, (unsigned long long)r->unlocks,
               (unsigned long long)r->delay_ns);
    json_side(o, "waiters", "wait_ns", r->waiters);
    json_side(o, "holders", "delay_ns", r->holders);
    tw_out_str(o, "}");
  }
  tw_out_str(o, "]}}\n");
}

void tw_contention_table(struct tw_out *o, bool json) {
  struct table t;
  if (table_collect(&t) != 0) {
    if (!json) tw_out_fmt(o, "==%ld== threadwatch: contention: out of memory\n", (long)getpid());
    return;
  }
  if (json) table_json(o, &t);
  else table_text(o, &t);
  free(t.rows);
}
