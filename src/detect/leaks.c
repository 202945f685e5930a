/* Thread leaks (at exit and at threadwatch_check_leaks) and thread surges, grouped by creation stack
 * (and by what they wait in). */
#include "detect/leaks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>

#include "base/atomic.h"
#include "base/options.h"
#include "report/report.h"
#include "base/tw.h"
#include "report/emit.h"
#include "report/build.h"

struct group_key {
  uint32_t created_at;
  uint32_t state; /* enum tw_tstate */
  uint32_t call;
  uint32_t stack;
};

struct group {
  struct group_key key;
  uint32_t count;
  size_t first;     /* index of its first thread in the sorted snapshot */
  bool same_object; /* every thread waits on the same object */
  bool written;     /* its report was written (not suppressed) */
  struct tw_report report;
  UT_hash_handle hh;
};

/* A leak pass: the exit-time check (scope NULL) or a threadwatch_check_leaks (its scope). */
struct pass {
  const struct tw_leak_scope *scope;
};

/* Threads already reported as leaks (by threadwatch_check_leaks): never reported twice. Analysis
 * lock. A forked child starts again with ids from 2: the set is for the pid that made it. */
struct reported {
  uint64_t id;
  UT_hash_handle hh;
};
static struct reported *reported_set;
static pid_t reported_pid;

static void reported_forget_if_forked(void) {
  if (reported_pid == getpid()) return;
  struct reported *e, *tmp;
  HASH_ITER(hh, reported_set, e, tmp) {
    HASH_DEL(reported_set, e);
    free(e);
  }
  reported_pid = getpid();
}

static bool was_reported(uint64_t id) {
  struct reported *e = NULL;
  HASH_FIND(hh, reported_set, &id, sizeof(id), e);
  return e != NULL;
}

static void note_reported(uint64_t id) {
  if (was_reported(id)) return;
  struct reported *e = calloc(1, sizeof(*e));
  if (!e) return; /* at worst reported again at exit */
  e->id = id;
  HASH_ADD(hh, reported_set, id, sizeof(uint64_t), e);
}

/* At exit: neither joined nor detached (detached ones alive too with THREADWATCH_LEAK_DETACHED). */
static bool is_exit_leak(const struct tw_thread_snap *s) {
  if (s->adopted || s->join == TW_JOINED) return false;
  /* The thread that ends the process (a worker calling exit(), maybe while main joins it) plays
   * main's part: it is not left behind, it is the one leaving (issue 11 item 5). */
  if (s->tid > 0 && s->tid == gettid() && s->life != TW_LIFE_EXITED) return false;
  /* A detach under way when the process ended counts as done (it only waits for our bookkeeping);
   * so does a join of a thread that has already exited. A join of a live thread does not. */
  bool detached = s->join == TW_DETACHED || s->detaching;
  if (detached) return tw__opt.leak_detached && s->life != TW_LIFE_EXITED;
  if (s->joining && s->life == TW_LIFE_EXITED) return false;
  return true;
}

/* At a check: created after the mark (not the caller), and alive whatever its detach state, or
 * ended without a join or a detach. */
static bool is_check_leak(const struct tw_thread_snap *s, const struct tw_leak_scope *sc) {
  if (s->adopted || s->id <= sc->after_id || s->id == sc->except_id) return false;
  if (s->join == TW_JOINED) return false;
  if (s->life != TW_LIFE_EXITED) return true;
  return s->join == TW_JOINABLE && !s->detaching && !s->joining;
}

static bool is_leak(const struct tw_thread_snap *s, const struct pass *p) {
  return p->scope ? is_check_leak(s, p->scope) : is_exit_leak(s);
}

static const char *what_of(enum tw_tstate st) {
  return st == TW_TS_BLOCKED ? "blocked" : st == TW_TS_EXITED ? "exited" : "running";
}

static void leak_message(struct group *g, const struct pass *p) {
  struct tw_report *r = &g->report;
  const struct tw_report_thread *t = &r->threads[0];
  char where[256], who[64], waited[96] = "";
  tw_report_where(g->key.created_at, where, sizeof(where));
  bool one = g->count == 1;
  if (one) snprintf(who, sizeof(who), "thread T%llu", (unsigned long long)t->id);
  else snprintf(who, sizeof(who), "%u threads", g->count);
  const char *never = one ? "was never joined" : "were never joined";
  if (p->scope)
    snprintf(waited, sizeof(waited), "; threadwatch_check_leaks() waited %llums for %s to %s",
             (unsigned long long)p->scope->waited_ms, one ? "it" : "them",
             t->state == TW_TS_EXITED ? "be joined" : "end");
  switch (t->state) {
    case TW_TS_BLOCKED:
      if (p->scope)
        snprintf(r->message, sizeof(r->message),
                 "%s created at %s %s still blocked in %s() on %s (for %.2fs)%s%s%s", who, where,
                 one ? "is" : "are", tw_call_name(t->wait.call),
                 g->same_object ? t->object : "different objects", (double)t->wait_ns / 1e9,
                 g->same_object && t->note[0] ? " (" : "", g->same_object ? t->note : "",
                 g->same_object && t->note[0] ? ")" : "");
      else
        snprintf(r->message, sizeof(r->message),
                 "%s created at %s %s still blocked in %s() on %s (for %.2fs) and %s%s%s", who,
                 where, one ? "is" : "are", tw_call_name(t->wait.call),
                 g->same_object ? t->object : "different objects", (double)t->wait_ns / 1e9, never,
                 g->same_object && t->note[0] ? "; " : "", g->same_object ? t->note : "");
      break;
    case TW_TS_RUNNING:
      if (p->scope)
        snprintf(r->message, sizeof(r->message), "%s created at %s %s still running%s%s%s", who,
                 where, one ? "is" : "are", t->note[0] ? " (" : "", t->note, t->note[0] ? ")" : "");
      else
        snprintf(r->message, sizeof(r->message),
                 "%s created at %s %s still running at exit%s%s%s and %s", who, where,
                 one ? "is" : "are", t->note[0] ? " (" : "", t->note, t->note[0] ? ")" : "", never);
      break;
    case TW_TS_EXITED:
      snprintf(r->message, sizeof(r->message), "%s created at %s exited but %s (nor detached)", who,
               where, never);
      break;
  }
  size_t len = strlen(r->message);
  snprintf(r->message + len, sizeof(r->message) - len, "%s", waited);
}

/* One leak pass: counts the leaks and, with `report`, groups them by creation stack, state and
 * stack and writes one thread-leak report per group. Threads reported before are skipped at exit,
 * and counted but not reported again at a check. Returns the count, or -ENOMEM. Analysis lock held
 * when `report`. */
static long leak_pass(const struct pass *p, bool report) {
  size_t n = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&n);
  if (!snaps) return -ENOMEM;
  long counted = 0;
  if (!report) {
    for (size_t i = 0; i < n; i++) counted += is_leak(&snaps[i], p);
    free(snaps);
    return counted;
  }
  reported_forget_if_forked();
  uint64_t now = tw__now_ns();
  /* A check remembers which threads it reported: the group of each snapshot entry. */
  struct group **group_of = p->scope ? calloc(n ? n : 1, sizeof(*group_of)) : NULL;
  if (p->scope && !group_of) {
    free(snaps);
    return -ENOMEM;
  }
  struct group *groups = NULL, **order = NULL;
  size_t ngroups = 0, located = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_leak(&snaps[i], p)) continue;
    if (was_reported(snaps[i].id)) {
      counted += p->scope != NULL; /* a check counts it again; the exit check skips it */
      continue;
    }
    struct tw_report_thread rt;
    tw_report_thread_from_snap(&rt, &snaps[i], now);
    /* Where a running thread is (its stack, if stopped in a system call): for the first
     * TW_LEAK_LOCATE_MAX of them; past that, they group by creation stack alone. */
    if (rt.state == TW_TS_RUNNING && located++ < TW_LEAK_LOCATE_MAX) tw_report_thread_locate(&rt);
    struct group_key key = {snaps[i].created_at, rt.state, rt.wait.call, rt.stack};
    struct group *g = NULL;
    HASH_FIND(hh, groups, &key, sizeof(key), g);
    if (!g) {
      g = calloc(1, sizeof(*g));
      struct group **grown = g ? realloc(order, sizeof(*order) * (ngroups + 1)) : NULL;
      if (!grown) {
        free(g);
        break;
      }
      order = grown;
      order[ngroups++] = g;
      g->key = key;
      g->first = i;
      g->same_object = true;
      g->report.kind = "thread-leak";
      g->report.what = what_of(rt.state);
      g->report.same_stacks = true;
      HASH_ADD(hh, groups, key, sizeof(key), g);
    }
    struct tw_report *r = &g->report;
    if (r->nthreads > 0 && (rt.wait.obj != r->threads[0].wait.obj || rt.wait.fd != r->threads[0].wait.fd))
      g->same_object = false;
    if (r->nthreads < TW_REPORT_MAX_THREADS) r->threads[r->nthreads++] = rt;
    else if (r->nmore < TW_ARRAY_LEN(r->more_ids)) r->more_ids[r->nmore++] = rt.id;
    g->count++;
    if (group_of) group_of[i] = g;
  }
  uint64_t dropped = tw_registry_dropped();
  for (size_t i = 0; i < ngroups; i++) {
    struct group *g = order[i];
    g->report.count = g->count;
    g->report.dropped = dropped;
    /* A check asked about exactly these threads: they are errors. At exit, a thread still alive is
     * a warning (a service thread, a pool the program never meant to join, as Go does not report
     * goroutines alive when main returns), unless its creation site piled them up; one that exited
     * and was never joined is an error (its stack and result are kept for a join that never
     * comes). */
    if (p->scope || g->report.threads[0].state == TW_TS_EXITED || g->count >= TW_LEAK_PILEUP)
      g->report.severity = "error";
    else g->report.severity = "warning";
    leak_message(g, p);
    g->written = tw_report_emit(&g->report);
    if (g->written) counted += g->count; /* a suppressed group is not a leak to the caller */
  }
  /* Remembered only for checks: at exit nothing comes after. */
  for (size_t i = 0; group_of && i < n; i++)
    if (group_of[i] && group_of[i]->written) note_reported(snaps[i].id);
  for (size_t i = 0; i < ngroups; i++) {
    HASH_DEL(groups, order[i]);
    free(order[i]);
  }
  free(group_of);
  free(order);
  free(snaps);
  return counted;
}

void tw_leaks_check_exit(void) {
  struct pass p = {NULL};
  leak_pass(&p, true);
}

long tw_leaks_count(const struct tw_leak_scope *scope) {
  struct pass p = {scope};
  return leak_pass(&p, false);
}

long tw_leaks_check(const struct tw_leak_scope *scope) {
  struct pass p = {scope};
  return leak_pass(&p, true);
}

struct surge_group {
  uint32_t created_at;
  uint32_t count;
  size_t first;
  UT_hash_handle hh;
};

static int by_count_desc(const void *a, const void *b) {
  const struct surge_group *x = *(struct surge_group *const *)a, *y = *(struct surge_group *const *)b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first;
}

static struct tw_report surge; /* captured by tw_leaks_note_surge, written on the next tick */
static _Atomic int surge_state;  /* 0 none, 1 capturing, 2 captured and due, 3 reported */

static void capture_surge(uint64_t live) {
  size_t n = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&n);
  if (!snaps) return;
  uint64_t now = tw__now_ns();
  struct surge_group *groups = NULL;
  size_t ngroups = 0;
  for (size_t i = 0; i < n; i++) {
    if (snaps[i].adopted || snaps[i].life == TW_LIFE_EXITED) continue;
    struct surge_group *g = NULL;
    HASH_FIND(hh, groups, &snaps[i].created_at, sizeof(uint32_t), g);
    if (!g) {
      if (!(g = calloc(1, sizeof(*g)))) break;
      g->created_at = snaps[i].created_at;
      g->first = i;
      HASH_ADD(hh, groups, created_at, sizeof(uint32_t), g);
      ngroups++;
    }
    g->count++;
  }
  struct surge_group **sorted = calloc(ngroups ? ngroups : 1, sizeof(*sorted));
  size_t k = 0;
  struct surge_group *g, *tmp;
  HASH_ITER(hh, groups, g, tmp) if (sorted) sorted[k++] = g;
  if (sorted) qsort(sorted, k, sizeof(*sorted), by_count_desc);
  struct tw_report *r = &surge;
  memset(r, 0, sizeof(*r));
  r->kind = "thread-surge";
  r->what = "max-threads";
  r->count = (uint32_t)live;
  r->limit = tw__opt.max_threads;
  for (size_t i = 0; sorted && i < k && r->ngroups < TW_REPORT_MAX_GROUPS; i++) {
    r->groups[r->ngroups++] = (struct tw_report_group){sorted[i]->count, sorted[i]->created_at};
    tw_report_thread_from_snap(&r->threads[r->nthreads++], &snaps[sorted[i]->first], now);
  }
  HASH_ITER(hh, groups, g, tmp) {
    HASH_DEL(groups, g);
    free(g);
  }
  free(sorted);
  free(snaps);
}

void tw_leaks_note_surge(uint64_t live) {
  int none = 0;
  if (!atomic_compare_exchange_strong(&surge_state, &none, 1)) return;
  capture_surge(live); /* now, while the threads are alive; written on the next tick */
  tw_store_release(&surge_state, 2);
}

static void report_surge(void) {
  struct tw_report *r = &surge;
  char where[256] = "an unknown place";
  if (r->ngroups) tw_report_where(r->groups[0].created_at, where, sizeof(where));
  snprintf(r->message, sizeof(r->message),
           "%u threads alive at once, more than THREADWATCH_MAX_THREADS=%llu; the most (%u) were "
           "created at %s",
           r->count, (unsigned long long)r->limit, r->ngroups ? r->groups[0].count : 0, where);
  r->dropped = tw_registry_dropped();
  tw_report_emit(r);
}

void tw_leaks_tick(uint64_t now_ns, bool final) {
  (void)now_ns;
  (void)final;
  int due = 2;
  if (atomic_compare_exchange_strong(&surge_state, &due, 3)) report_surge();
}

void tw_leaks_after_fork_child(bool consistent) {
  (void)consistent; /* the reported set is per pid (reported_forget_if_forked) */
  tw_store_relaxed(&surge_state, 0);
}
