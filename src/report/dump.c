/* The thread dump: every live application thread, grouped by identical stacks or one by one, as
 * text or JSON (the formats are described in docs/dump.md), with the locks each thread holds, who
 * holds what a blocked thread waits for, and the deadlocks found now (as jstack shows them).
 * Analysis lock held. */
#include "report/dump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/out.h"
#include "base/tw.h"
#include "report/build.h"
#include "report/format.h"
#include "report/writer.h"
#include "runtime/names.h"
#include "runtime/stackdepot.h"
#include "runtime/tls.h"

/* Running threads whose stacks are read (the system call each is stopped in, and where): each read
 * costs a few hundred system calls, so a dump of thousands stays well under a second. Past the
 * bound, running threads group by creation stack alone. */
#define DUMP_LOCATE_MAX 256

/* Thread ids listed on a text group's "threads:" line; the rest are counted ("and 4800 more"): a
 * 5000-thread pool should be one readable group, and `dump --all` lists every thread anyway. The
 * JSON lists every id. */
#define DUMP_TEXT_IDS 64

/* Locks listed per thread; more are counted ("and 3 more locks"). */
#define DUMP_HELD_MAX 16

/* The locks one thread holds, read from its own held-lock stack without stopping it. */
struct dump_locks {
  uint64_t id;
  uint32_t n; /* how many it holds (more than DUMP_HELD_MAX: only those are kept) */
  struct tw_held h[DUMP_HELD_MAX];
};

/* The live threads, sorted by group key and then id: a group is then a run of equal keys. */
struct dump {
  struct tw_report_thread *threads;
  size_t n;
  size_t running, blocked, sleeping, exited_unjoined;
  struct dump_locks *locks; /* one per live thread, by id */
  size_t nlocks;
  const struct tw_dump_deadlocks *deadlocks;
};

static int locks_by_id(const void *key, const void *elem) {
  uint64_t id = *(const uint64_t *)key, other = ((const struct dump_locks *)elem)->id;
  return id < other ? -1 : id > other;
}

static const struct dump_locks *locks_of(const struct dump *d, uint64_t id) {
  if (!d->locks) return NULL;
  const struct dump_locks *l = bsearch(&id, d->locks, d->nlocks, sizeof(*d->locks), locks_by_id);
  return l && l->n ? l : NULL;
}

/* The mutex a thread waiting on a condvar has released for the wait (its held-lock stack keeps it,
 * for the cleanup handlers of a cancelled wait): not shown as held. 0 for other threads. */
static uintptr_t released(const struct tw_report_thread *t) {
  return t->state == TW_TS_BLOCKED && tw_call_class(t->wait.call) == TW_WC_COND ? t->wait.obj2 : 0;
}

/* A lock-like wait (mutex, C11 mtx, rwlock, spinlock): its holders are the threads whose held
 * locks include it. */
static void find_holders(struct dump *d) {
  for (size_t i = 0; i < d->n; i++) {
    struct tw_report_thread *t = &d->threads[i];
    enum tw_wait_class c = tw_call_class(t->wait.call);
    if (t->state != TW_TS_BLOCKED || (c != TW_WC_MUTEX && c != TW_WC_RWLOCK && c != TW_WC_SPIN))
      continue;
    for (size_t k = 0; k < d->nlocks && t->nheld_by < TW_ARRAY_LEN(t->held_by); k++) {
      const struct dump_locks *l = &d->locks[k];
      uint32_t m = l->n < DUMP_HELD_MAX ? l->n : DUMP_HELD_MAX;
      for (uint32_t j = 0; j < m; j++)
        if (l->h[j].lock == t->wait.obj) {
          t->held_by[t->nheld_by++] = l->id;
          break;
        }
    }
  }
}

/* Threads with the same state, wait call, current stack and creation stack are one group. */
static int key_cmp(const struct tw_report_thread *x, const struct tw_report_thread *y) {
  if (x->state != y->state) return x->state < y->state ? -1 : 1;
  if (x->wait.call != y->wait.call) return x->wait.call < y->wait.call ? -1 : 1;
  if (x->stack != y->stack) return x->stack < y->stack ? -1 : 1;
  if (x->created_at != y->created_at) return x->created_at < y->created_at ? -1 : 1;
  return 0;
}

static int by_key_then_id(const void *a, const void *b) {
  const struct tw_report_thread *x = a, *y = b;
  int c = key_cmp(x, y);
  if (c) return c;
  return x->id < y->id ? -1 : x->id > y->id;
}

static int by_id(const void *a, const void *b) {
  const struct tw_report_thread *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}


/* Fills d with the live threads, described as reports describe them. Returns 0 or -ENOMEM. */
static int dump_collect(struct dump *d) {
  memset(d, 0, sizeof(*d));
  size_t n = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&n);
  if (!snaps) return -ENOMEM;
  d->threads = malloc(sizeof(*d->threads) * (n ? n : 1));
  if (!d->threads) {
    free(snaps);
    return -ENOMEM;
  }
  d->locks = calloc(n ? n : 1, sizeof(*d->locks)); /* without it: no lock lines */
  uint64_t now = tw__now_ns();
  for (size_t i = 0; i < n; i++) {
    if (snaps[i].life == TW_LIFE_EXITED) {
      /* Exited but still waiting to be joined: not live, but worth a count (a leak in progress). */
      if (!snaps[i].adopted && snaps[i].join == TW_JOINABLE && !snaps[i].joining)
        d->exited_unjoined++;
      continue;
    }
    struct tw_report_thread *rt = &d->threads[d->n++];
    tw_report_thread_from_snap(rt, &snaps[i], now);
    if (d->locks) { /* snapshots come sorted by id */
      struct dump_locks *l = &d->locks[d->nlocks++];
      l->id = snaps[i].id;
      l->n = tw_held_read_other(snaps[i].tls, l->h, DUMP_HELD_MAX);
    }
    if (rt->state == TW_TS_BLOCKED) d->blocked++;
    else if (rt->state == TW_TS_SLEEPING) d->sleeping++;
    else if (d->running++ < DUMP_LOCATE_MAX) tw_report_thread_locate(rt);
  }
  free(snaps);
  find_holders(d);
  return 0;
}

/* One group: threads[first .. first+count) of the key-sorted array. */
struct group {
  size_t first, count;
};

static int by_count_desc(const void *a, const void *b) {
  const struct group *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first; /* ties: stable, by key order */
}

/* Sorts d by key and returns its groups, largest first (*ng of them). NULL if out of memory. */
static struct group *dump_group(struct dump *d, size_t *ng) {
  qsort(d->threads, d->n, sizeof(*d->threads), by_key_then_id);
  struct group *g = malloc(sizeof(*g) * (d->n ? d->n : 1));
  if (!g) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < d->n; i++) {
    if (k > 0 && key_cmp(&d->threads[g[k - 1].first], &d->threads[i]) == 0) g[k - 1].count++;
    else g[k++] = (struct group){i, 1};
  }
  qsort(g, k, sizeof(*g), by_count_desc);
  *ng = k;
  return g;
}

/* What a group's threads have in common beyond the key: one object, one note, one parent. */
struct group_facts {
  bool same_object, same_note, same_parent;
  uint64_t min_ns, max_ns;
};

static struct group_facts group_facts(const struct dump *d, const struct group *g) {
  const struct tw_report_thread *t0 = &d->threads[g->first];
  struct group_facts f = {true, true, true, t0->wait_ns, t0->wait_ns};
  for (size_t i = g->first + 1; i < g->first + g->count; i++) {
    const struct tw_report_thread *t = &d->threads[i];
    f.same_object &= strcmp(t->object, t0->object) == 0;
    f.same_note &= strcmp(t->note, t0->note) == 0;
    f.same_parent &= t->parent == t0->parent;
    if (t->wait_ns < f.min_ns) f.min_ns = t->wait_ns;
    if (t->wait_ns > f.max_ns) f.max_ns = t->wait_ns;
  }
  return f;
}

/* --- text --- */

static void text_header(struct tw_out *o, const struct dump *d) {
  tw_out_fmt(o, "threadwatch dump of pid %ld: %zu thread%s (%zu running, ", (long)getpid(), d->n,
             d->n == 1 ? "" : "s", d->running);
  if (d->sleeping) tw_out_fmt(o, "%zu sleeping, ", d->sleeping);
  tw_out_fmt(o, "%zu blocked)\n", d->blocked);
  if (d->exited_unjoined)
    tw_out_fmt(o, "(and %zu exited thread%s not joined yet, not listed)\n", d->exited_unjoined,
               d->exited_unjoined == 1 ? "" : "s");
}

/* "blocked in read() on pipe fd 3 for 2.00s; no thread has written to it:" or "running ...". */
static void text_state(struct tw_out *o, const struct tw_report_thread *t,
                       const struct group_facts *f) {
  if (!tw_tstate_waits(t->state)) {
    /* Where it is, when stopped in a system call we do not watch (tw_report_thread_locate). */
    bool note = f->same_note && t->note[0];
    tw_out_fmt(o, "%s (not in a watched blocking call)%s%s%s\n", tw_state_name(t->state),
               note ? ": " : "", note ? t->note : "", t->stack ? ":" : "");
    return;
  }
  char lo[32], hi[32];
  tw_format_duration(lo, sizeof(lo), f->min_ns);
  tw_format_duration(hi, sizeof(hi), f->max_ns);
  tw_out_fmt(o, "%s in %s() on %s", tw_state_name(t->state), tw_call_name(t->wait.call),
             f->same_object ? t->object : "different objects");
  if (f->same_object && t->nheld_by) {
    tw_out_str(o, " (held by ");
    for (uint8_t i = 0; i < t->nheld_by; i++)
      tw_out_fmt(o, "%sT%llu", i ? ", " : "", (unsigned long long)t->held_by[i]);
    tw_out_str(o, ")");
  }
  tw_out_fmt(o, " for %s", lo);
  if (strcmp(lo, hi) != 0) tw_out_fmt(o, " to %s", hi);
  if (f->same_note && t->note[0]) tw_out_fmt(o, "; %s", t->note);
  tw_out_str(o, ":\n");
}

static const char *lock_word(uint16_t mode) {
  return mode == TW_HELD_READ || mode == TW_HELD_WRITE ? "rwlock"
         : mode == TW_HELD_SPIN                        ? "spinlock"
                                                       : "mutex";
}

/* jstack's "- locked <0x...>": the locks a thread holds, the latest first, with since when and
 * where it took each. */
static void text_locks(struct tw_out *o, const struct dump_locks *l, uintptr_t skip) {
  if (!l) return;
  uint64_t tick = tw__now_ns() / TW_COARSE_TICK_NS;
  uint32_t m = l->n < DUMP_HELD_MAX ? l->n : DUMP_HELD_MAX;
  for (uint32_t k = m; k-- > 0;) {
    const struct tw_held *h = &l->h[k];
    if (h->lock == skip) continue;
    char what[TW_NAME_BYTES + 64], since[48] = "", where[200];
    tw_names_describe(what, sizeof(what), lock_word(h->mode), h->lock);
    if (h->since && tick >= h->since) {
      char d[32];
      tw_format_duration(d, sizeof(d), (tick - h->since) * TW_COARSE_TICK_NS);
      snprintf(since, sizeof(since), " since %s", d);
    }
    uintptr_t pc = h->pc;
    uint32_t at = pc ? tw_depot_put(&pc, 1) : 0;
    tw_report_where(at, where, sizeof(where));
    tw_out_fmt(o, "  - locked %s%s%s at %s", what, h->mode == TW_HELD_READ ? " for reading" : "",
               since, where);
    if (h->count > 1) tw_out_fmt(o, " (%u times)", h->count);
    tw_out_str(o, "\n");
  }
  if (l->n > m) tw_out_fmt(o, "  - and %u more locks\n", l->n - m);
}

/* Whether every thread of a group holds the same locks (then they are shown once). */
static bool same_locks(const struct dump *d, const struct group *g) {
  const struct dump_locks *a = locks_of(d, d->threads[g->first].id);
  for (size_t i = g->first + 1; i < g->first + g->count; i++) {
    const struct dump_locks *b = locks_of(d, d->threads[i].id);
    if (!a != !b) return false;
    if (!a) continue;
    if (a->n != b->n) return false;
    for (uint32_t k = 0; k < a->n && k < DUMP_HELD_MAX; k++)
      if (a->h[k].lock != b->h[k].lock) return false;
  }
  return true;
}

static void text_created(struct tw_out *o, const struct tw_report_thread *t, bool same_parent) {
  if (!t->created_at) return; /* the main thread and other adopted threads */
  if (same_parent) tw_out_fmt(o, "  created by T%llu at:\n", (unsigned long long)t->parent);
  else tw_out_str(o, "  created at:\n");
  tw_report_text_stack(o, t->created_at, "    ");
}

static void text_group(struct tw_out *o, const struct dump *d, const struct group *g) {
  const struct tw_report_thread *t0 = &d->threads[g->first];
  struct group_facts f = group_facts(d, g);
  tw_out_fmt(o, "\n%zu thread%s: ", g->count, g->count == 1 ? "" : "s");
  text_state(o, t0, &f);
  tw_out_str(o, "  threads: ");
  size_t listed = g->count < DUMP_TEXT_IDS ? g->count : DUMP_TEXT_IDS;
  for (size_t i = 0; i < listed; i++) {
    if (i) tw_out_str(o, ", ");
    tw_format_who(o, &d->threads[g->first + i]);
  }
  if (g->count > listed) tw_out_fmt(o, " and %zu more (dump --all lists them)", g->count - listed);
  tw_out_str(o, "\n");
  if (t0->stack) tw_report_text_stack(o, t0->stack, "    ");
  if (same_locks(d, g)) text_locks(o, locks_of(d, t0->id), released(t0));
  else tw_out_str(o, "  - each holds its own locks (dump --all lists them)\n");
  text_created(o, t0, f.same_parent);
}

static void text_thread(struct tw_out *o, const struct dump *d, const struct tw_report_thread *t) {
  struct group_facts f = {true, true, true, t->wait_ns, t->wait_ns};
  tw_out_str(o, "\n");
  tw_format_who(o, t);
  tw_out_str(o, " ");
  text_state(o, t, &f);
  if (t->stack) tw_report_text_stack(o, t->stack, "    ");
  text_locks(o, locks_of(d, t->id), released(t));
  text_created(o, t, true);
}

static const struct tw_report_thread *thread_of(const struct dump *d, uint64_t id) {
  for (size_t i = 0; i < d->n; i++)
    if (d->threads[i].id == id) return &d->threads[i];
  return NULL;
}

/* jstack's "Found one deadlock" section: each deadlock's threads, what each waits for and who
 * can end it. */
static void text_deadlocks(struct tw_out *o, const struct dump *d) {
  const struct tw_dump_deadlocks *dl = d->deadlocks;
  if (!dl || dl->n == 0) return;
  if (dl->n == 1) tw_out_str(o, "\nFound one deadlock:\n");
  else tw_out_fmt(o, "\nFound %u deadlocks:\n", dl->n);
  for (uint32_t i = 0; i < dl->n; i++) {
    const struct tw_dump_deadlock *x = &dl->d[i];
    bool cycle = strcmp(x->what, "wait-cycle") == 0, relock = strcmp(x->what, "self-relock") == 0;
    tw_out_fmt(o, "=============================\n%s:\n",
               cycle    ? "threads each waiting for the next (wait-cycle)"
               : relock ? "a thread locking a lock it holds (self-relock)"
                        : "every thread asleep, in waits no thread can end (all-asleep)");
    for (uint32_t k = 0; k < x->nthreads; k++) {
      const struct tw_report_thread *t = thread_of(d, x->ids[k]);
      if (!t) continue;
      tw_format_who(o, t);
      tw_out_fmt(o, ":\n  waiting in %s() on %s", tw_call_name(t->wait.call), t->object);
      enum tw_wait_class c = tw_call_class(t->wait.call);
      bool lock = c == TW_WC_MUTEX || c == TW_WC_RWLOCK || c == TW_WC_SPIN;
      if (relock) {
        tw_out_str(o, ",\n  which it holds itself");
      } else if (cycle) {
        unsigned long long next = (unsigned long long)x->ids[(k + 1) % x->nthreads];
        if (lock) tw_out_fmt(o, ",\n  which is held by T%llu", next);
        else tw_out_fmt(o, ",\n  which only T%llu can end", next);
      }
      char where[200];
      tw_report_where(t->stack, where, sizeof(where));
      tw_out_fmt(o, "\n  at %s\n", where);
    }
  }
}

/* --- JSON --- */

/* The "wait" object of a thread or of a group (for a group: `for_ms` is the longest wait and
 * `min_for_ms` the shortest; `object`, `address`/`fd` and `note` only when they are shared). */
static void json_wait(struct tw_out *o, const struct tw_report_thread *t,
                      const struct group_facts *f, bool group) {
  tw_out_fmt(o, ",\"wait\":{\"call\":\"%s\",\"object\":", tw_call_name(t->wait.call));
  tw_out_json_str(o, f->same_object ? t->object : "different objects");
  if (f->same_note && t->note[0]) {
    tw_out_str(o, ",\"note\":");
    tw_out_json_str(o, t->note);
  }
  if (f->same_object) {
    if (tw_wait_json_fd(t->wait.call)) tw_out_fmt(o, ",\"fd\":%d", t->wait.fd);
    else if (tw_wait_json_address(t->wait.call))
      tw_out_fmt(o, ",\"address\":\"0x%lx\"", (unsigned long)t->wait.obj);
  }
  if (f->same_object && t->nheld_by) {
    tw_out_str(o, ",\"held_by\":[");
    for (uint8_t i = 0; i < t->nheld_by; i++)
      tw_out_fmt(o, "%s%llu", i ? "," : "", (unsigned long long)t->held_by[i]);
    tw_out_str(o, "]");
  }
  tw_out_fmt(o, ",\"for_ms\":%llu", (unsigned long long)(f->max_ns / 1000000));
  if (group) tw_out_fmt(o, ",\"min_for_ms\":%llu", (unsigned long long)(f->min_ns / 1000000));
  tw_out_str(o, "}");
}

/* A running thread's "note": the system call it is stopped in and where, as reports give it. */
static void json_note(struct tw_out *o, const struct tw_report_thread *t,
                      const struct group_facts *f) {
  if (!f->same_note || !t->note[0]) return;
  tw_out_str(o, ",\"note\":");
  tw_out_json_str(o, t->note);
}

/* "locks_held": [{"address","kind","name","mode","since_ms","count","at":[frame]}], latest last. */
static void json_locks(struct tw_out *o, const struct dump_locks *l, uintptr_t skip) {
  if (!l) return;
  uint64_t tick = tw__now_ns() / TW_COARSE_TICK_NS;
  uint32_t m = l->n < DUMP_HELD_MAX ? l->n : DUMP_HELD_MAX, shown = 0;
  for (uint32_t k = 0; k < m; k++) shown += l->h[k].lock != skip;
  if (!shown) return;
  tw_out_str(o, ",\"locks_held\":[");
  bool first = true;
  for (uint32_t k = 0; k < m; k++) {
    const struct tw_held *h = &l->h[k];
    if (h->lock == skip) continue;
    char name[TW_NAME_BYTES];
    tw_names_get(h->lock, name, sizeof(name));
    tw_out_fmt(o, "%s{\"address\":\"0x%lx\",\"kind\":\"%s\",\"name\":", first ? "" : ",",
               (unsigned long)h->lock, lock_word(h->mode));
    first = false;
    tw_out_json_str(o, name);
    tw_out_fmt(o, ",\"mode\":\"%s\"", h->mode == TW_HELD_READ ? "read" : "write");
    if (h->since && tick >= h->since)
      tw_out_fmt(o, ",\"since_ms\":%llu",
                 (unsigned long long)((tick - h->since) * TW_COARSE_TICK_NS / 1000000));
    tw_out_fmt(o, ",\"count\":%u,\"at\":", h->count);
    uintptr_t pc = h->pc;
    tw_report_json_stack(o, pc ? tw_depot_put(&pc, 1) : 0);
    tw_out_str(o, "}");
  }
  tw_out_fmt(o, "],\"locks_held_total\":%u", l->n - (m - shown));
}

static void json_deadlocks(struct tw_out *o, const struct dump *d) {
  const struct tw_dump_deadlocks *dl = d->deadlocks;
  tw_out_str(o, ",\"deadlocks\":[");
  for (uint32_t i = 0; dl && i < dl->n; i++) {
    tw_out_fmt(o, "%s{\"what\":\"%s\",\"threads\":[", i ? "," : "", dl->d[i].what);
    for (uint32_t k = 0; k < dl->d[i].nthreads; k++)
      tw_out_fmt(o, "%s%llu", k ? "," : "", (unsigned long long)dl->d[i].ids[k]);
    tw_out_str(o, "]}");
  }
  tw_out_str(o, "]");
}

/* A thread object with the field names of a report's thread (docs/report-format.md). */
static void json_thread(struct tw_out *o, const struct dump *d, const struct tw_report_thread *t) {
  struct group_facts f = {true, true, true, t->wait_ns, t->wait_ns};
  tw_out_fmt(o, "{\"id\":%llu,\"tid\":%d,\"name\":", (unsigned long long)t->id, t->tid);
  tw_out_json_str(o, t->name);
  tw_out_fmt(o, ",\"state\":\"%s\"", tw_state_name(t->state));
  if (tw_tstate_waits(t->state)) json_wait(o, t, &f, false);
  else json_note(o, t, &f);
  json_locks(o, locks_of(d, t->id), released(t));
  tw_out_fmt(o, ",\"parent\":%llu,\"stack\":", (unsigned long long)t->parent);
  tw_report_json_stack(o, t->stack);
  tw_out_str(o, ",\"created_at\":");
  tw_report_json_stack(o, t->created_at);
  tw_out_str(o, "}");
}

static void json_group(struct tw_out *o, const struct dump *d, const struct group *g) {
  const struct tw_report_thread *t0 = &d->threads[g->first];
  struct group_facts f = group_facts(d, g);
  tw_out_fmt(o, "{\"count\":%zu,\"state\":\"%s\"", g->count, tw_state_name(t0->state));
  if (tw_tstate_waits(t0->state)) json_wait(o, t0, &f, true);
  else json_note(o, t0, &f);
  if (same_locks(d, g)) json_locks(o, locks_of(d, t0->id), released(t0));
  tw_out_str(o, ",\"ids\":[");
  for (size_t i = 0; i < g->count; i++)
    tw_out_fmt(o, "%s%llu", i ? "," : "", (unsigned long long)d->threads[g->first + i].id);
  tw_out_str(o, "],\"stack\":");
  tw_report_json_stack(o, t0->stack);
  tw_out_str(o, ",\"created_at\":");
  tw_report_json_stack(o, t0->created_at);
  tw_out_str(o, "}");
}

static void json_counts(struct tw_out *o, const struct dump *d) {
  tw_out_fmt(o, ",\"running\":%zu,\"blocked\":%zu,\"sleeping\":%zu,\"exited_unjoined\":%zu",
             d->running, d->blocked, d->sleeping, d->exited_unjoined);
}

/* --- entry point --- */

static void write_all_threads(struct tw_out *o, struct dump *d, bool json) {
  qsort(d->threads, d->n, sizeof(*d->threads), by_id);
  if (json) {
    tw_out_fmt(o, "{\"pid\":%ld", (long)getpid());
    json_counts(o, d);
    tw_out_str(o, ",\"threads\":[");
    for (size_t i = 0; i < d->n; i++) {
      if (i) tw_out_str(o, ",");
      json_thread(o, d, &d->threads[i]);
    }
    tw_out_str(o, "]");
    json_deadlocks(o, d);
    tw_out_str(o, "}\n");
    return;
  }
  text_header(o, d);
  for (size_t i = 0; i < d->n; i++) text_thread(o, d, &d->threads[i]);
  text_deadlocks(o, d);
}

static void write_groups(struct tw_out *o, struct dump *d, const struct group *g, size_t ng,
                         bool json) {
  if (json) {
    tw_out_fmt(o, "{\"pid\":%ld,\"threads\":%zu", (long)getpid(), d->n);
    json_counts(o, d);
    tw_out_str(o, ",\"groups\":[");
    for (size_t i = 0; i < ng; i++) {
      if (i) tw_out_str(o, ",");
      json_group(o, d, &g[i]);
    }
    tw_out_str(o, "]");
    json_deadlocks(o, d);
    tw_out_str(o, "}\n");
    return;
  }
  text_header(o, d);
  for (size_t i = 0; i < ng; i++) text_group(o, d, &g[i]);
  text_deadlocks(o, d);
}

void tw_dump_write(struct tw_out *o, bool all, bool json,
                   const struct tw_dump_deadlocks *deadlocks) {
  struct dump d;
  struct group *groups = NULL;
  size_t ng = 0;
  if (dump_collect(&d) != 0 || (!all && !(groups = dump_group(&d, &ng)))) {
    tw_out_str(o, "threadwatch: out of memory making the dump\n");
    free(d.threads);
    free(d.locks);
    return;
  }
  d.deadlocks = deadlocks;
  if (all) write_all_threads(o, &d, json);
  else write_groups(o, &d, groups, ng, json);
  free(groups);
  free(d.threads);
  free(d.locks);
}
