/* Thread leaks at exit and thread surges, grouped by creation stack (and by what they wait in). */
#include "leaks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "options.h"
#include "report.h"
#include "tw.h"

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
  struct tw_report report;
  UT_hash_handle hh;
};



static bool is_leak(const struct tw_thread_snap *s) {
  if (s->adopted || s->join == TW_JOINED) return false;
  /* A detach under way when the process ended counts as done (it only waits for our bookkeeping);
   * so does a join of a thread that has already exited. A join of a live thread does not. */
  bool detached = s->join == TW_DETACHED || s->detaching;
  if (detached) return tw__opt.leak_detached && s->life != TW_LIFE_EXITED;
  if (s->joining && s->life == TW_LIFE_EXITED) return false;
  return true;
}

static const char *what_of(enum tw_tstate st) {
  return st == TW_TS_BLOCKED ? "blocked" : st == TW_TS_EXITED ? "exited" : "running";
}

static void leak_message(struct group *g) {
  struct tw_report *r = &g->report;
  const struct tw_report_thread *t = &r->threads[0];
  char where[256], who[64];
  tw_report_where(g->key.created_at, where, sizeof(where));
  bool one = g->count == 1;
  if (one) snprintf(who, sizeof(who), "thread T%llu", (unsigned long long)t->id);
  else snprintf(who, sizeof(who), "%u threads", g->count);
  const char *never = one ? "was never joined" : "were never joined";
  switch (t->state) {
    case TW_TS_BLOCKED:
      snprintf(r->message, sizeof(r->message),
               "%s created at %s %s still blocked in %s() on %s (for %.2fs) and %s%s%s", who, where,
               one ? "is" : "are", tw_call_name(t->wait.call),
               g->same_object ? t->object : "different objects", (double)t->wait_ns / 1e9, never,
               g->same_object && t->note[0] ? "; " : "", g->same_object ? t->note : "");
      break;
    case TW_TS_RUNNING:
      snprintf(r->message, sizeof(r->message), "%s created at %s %s still running at exit%s%s%s and %s",
               who, where, one ? "is" : "are", t->note[0] ? " (" : "", t->note,
               t->note[0] ? ")" : "", never);
      break;
    case TW_TS_EXITED:
      snprintf(r->message, sizeof(r->message), "%s created at %s exited but %s (nor detached)", who,
               where, never);
      break;
  }
}

void tw_leaks_check_exit(void) {
  size_t n = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&n);
  if (!snaps) return;
  uint64_t now = tw__now_ns();
  struct group *groups = NULL, **order = NULL;
  size_t ngroups = 0, located = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_leak(&snaps[i])) continue;
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
  }
  uint64_t dropped = tw_registry_dropped();
  for (size_t i = 0; i < ngroups; i++) {
    struct group *g = order[i];
    g->report.count = g->count;
    g->report.dropped = dropped;
    leak_message(g);
    tw_report_emit(&g->report);
  }
  for (size_t i = 0; i < ngroups; i++) {
    HASH_DEL(groups, order[i]);
    free(order[i]);
  }
  free(order);
  free(snaps);
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

static struct tw_report surge; /* captured by tw_leaks_capture_surge, written later */

void tw_leaks_capture_surge(uint64_t live) {
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

void tw_leaks_report_surge(void) {
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
