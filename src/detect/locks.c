/* The lock-order detector: applies the lock events of the hook side (detect/lockorder.c) to the
 * lock-order graph (detect/lockgraph.c) in their sequence order, and, with THREADWATCH_LOCK_CLASSES,
 * to the graph of lock classes; each new cycle becomes a lock-order-cycle report. */
#include "detect/locks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>

#include "base/options.h"
#include "base/tw.h"
#include "detect/lockgraph.h"
#include "detect/lockorder.h"
#include "report/report.h"
#include "report/symbolize.h"
#include "runtime/registry.h"
#include "runtime/stackdepot.h"
#include "report/emit.h"
#include "report/build.h"

static struct tw_lockgraph *graph;   /* the lock-order graph, made on the first edge */
static struct tw_lockgraph *classes; /* THREADWATCH_LOCK_CLASSES: the graph of lock classes */

/* Lock classes (THREADWATCH_LOCK_CLASSES=1): a lock's class is the call site where it was
 * initialised, or for a statically initialised lock where it was first seen taken. Sites are
 * compared by file:line (so the inlined copies of one constructor are one class) and stand for
 * the first pc seen at that line. The class graph is the lock graph with every lock replaced by its
 * class, and edges within one class (hand-over-hand over a list of same-kind objects) left out. */
struct lock_class {
  uintptr_t lock, site;
  UT_hash_handle hh;
};
static struct lock_class *class_of_lock;

struct site_key {
  char where[200];
  uintptr_t pc; /* the first pc seen at this file:line */
  UT_hash_handle hh;
};
static struct site_key *sites;

static uintptr_t canonical_site(uintptr_t pc) {
  struct tw_frame f;
  tw_symbolize(pc, &f, 1);
  char where[200];
  if (f.file) snprintf(where, sizeof(where), "%s:%d", f.file, f.line);
  else snprintf(where, sizeof(where), "%#lx", (unsigned long)pc);
  struct site_key *k = NULL;
  HASH_FIND_STR(sites, where, k);
  if (k) return k->pc;
  if (!(k = calloc(1, sizeof(*k)))) return pc;
  memcpy(k->where, where, sizeof(where));
  k->pc = pc;
  HASH_ADD_STR(sites, where, k);
  return pc;
}

static void set_class(uintptr_t lock, uintptr_t site) {
  struct lock_class *c = NULL;
  HASH_FIND(hh, class_of_lock, &lock, sizeof(lock), c);
  if (!c) {
    if (!(c = calloc(1, sizeof(*c)))) return;
    c->lock = lock;
    HASH_ADD(hh, class_of_lock, lock, sizeof(uintptr_t), c);
  }
  c->site = canonical_site(site);
}

static uintptr_t class_of(uintptr_t lock, uint32_t stack) {
  struct lock_class *c = NULL;
  HASH_FIND(hh, class_of_lock, &lock, sizeof(lock), c);
  if (c) return c->site;
  const uintptr_t *pcs;
  if (tw_depot_get(stack, &pcs) == 0) return 0;
  set_class(lock, pcs[0]);
  HASH_FIND(hh, class_of_lock, &lock, sizeof(lock), c);
  return c ? c->site : 0;
}

static void forget_class(uintptr_t lock) {
  struct lock_class *c = NULL;
  HASH_FIND(hh, class_of_lock, &lock, sizeof(lock), c);
  if (c) {
    HASH_DEL(class_of_lock, c);
    free(c);
  }
}

/* The threads of a lock-order cycle, one per edge thread, with the stack of its edge. */
static void cycle_threads(struct tw_report *r, uint64_t now) {
  r->nthreads = 0;
  for (uint32_t i = 0; i < r->nedges && r->nthreads < TW_REPORT_MAX_THREADS; i++) {
    bool dup = false;
    for (uint32_t j = 0; j < r->nthreads; j++) dup |= r->threads[j].id == r->edges[i].thread;
    if (dup) continue;
    struct tw_report_thread *rt = &r->threads[r->nthreads++];
    struct tw_thread_snap s;
    if (tw_registry_snap_by_id(r->edges[i].thread, &s)) {
      tw_report_thread_from_snap(rt, &s, now);
    } else {
      memset(rt, 0, sizeof(*rt));
      rt->id = r->edges[i].thread;
      rt->state = TW_TS_EXITED;
    }
    /* The stack that matters here is the acquisition that formed the edge. */
    rt->stack = r->edges[i].stack_to;
    if (rt->state == TW_TS_BLOCKED) rt->state = TW_TS_RUNNING; /* its wait is not the topic */
  }
}

/* Cycles through the same call sites are one finding: a program that takes 45 locks in rotating
 * order at one site closes 990 two-lock cycles, each a distinct pair of locks. The first cycle of
 * a group (same acquisition and held-since sites on every edge, as a set) is reported; later ones
 * are folded into it, counted with the locks they involve, and said in one line at exit. */
struct site_group {
  uint64_t sig;
  uint32_t folded;      /* cycles after the first */
  uint32_t nlocks;      /* distinct locks over the group's cycles */
  uintptr_t pc_to, pc_from; /* one edge's sites, to name the group */
  UT_hash_handle hh;
};
static struct site_group *site_groups;
struct group_lock {
  struct { uint64_t sig; uintptr_t addr; } key;
  UT_hash_handle hh;
};
static struct group_lock *group_locks;

static uintptr_t first_pc(uint32_t stack) {
  const uintptr_t *pcs;
  return tw_depot_get(stack, &pcs) > 0 ? pcs[0] : 0;
}

/* The set of (acquired at, held since) call sites of a cycle's edges, order-free. */
static uint64_t site_signature(const struct tw_report *r) {
  uint64_t sig = 0x9E3779B97F4A7C15ull ^ r->nedges;
  for (uint32_t i = 0; i < r->nedges; i++) {
    uint64_t h = (uint64_t)first_pc(r->edges[i].stack_to) * 0xC2B2AE3D27D4EB4Full ^
                 (uint64_t)first_pc(r->edges[i].stack_from) * 0x165667B19E3779F9ull;
    sig += h ^ (h >> 29); /* a sum: the same set in any order */
  }
  return sig;
}

static void group_note_locks(struct site_group *g, const struct tw_report *r) {
  for (uint32_t i = 0; i < r->nlocks; i++) {
    struct group_lock k = {.key = {g->sig, r->locks[i].addr}}, *e = NULL;
    HASH_FIND(hh, group_locks, &k.key, sizeof(k.key), e);
    if (e || !(e = calloc(1, sizeof(*e)))) continue;
    e->key = k.key;
    HASH_ADD(hh, group_locks, key, sizeof(e->key), e);
    g->nlocks++;
  }
}

/* True when the cycle of r is the first of its site group (report it); false when folded. */
static bool first_of_group(const struct tw_report *r) {
  uint64_t sig = site_signature(r);
  struct site_group *g = NULL;
  HASH_FIND(hh, site_groups, &sig, sizeof(sig), g);
  bool first = g == NULL;
  if (!g) {
    if (!(g = calloc(1, sizeof(*g)))) return true;
    g->sig = sig;
    g->pc_to = r->nedges ? first_pc(r->edges[0].stack_to) : 0;
    g->pc_from = r->nedges ? first_pc(r->edges[0].stack_from) : 0;
    HASH_ADD(hh, site_groups, sig, sizeof(uint64_t), g);
  } else {
    g->folded++;
  }
  group_note_locks(g, r);
  return first;
}

void tw_locks_at_exit(void) {
  struct site_group *g, *tmp;
  HASH_ITER(hh, site_groups, g, tmp) {
    if (!g->folded) continue;
    char to[200], from[200], line[600];
    uint32_t a = g->pc_to ? tw_depot_put(&g->pc_to, 1) : 0;
    uint32_t b = g->pc_from ? tw_depot_put(&g->pc_from, 1) : 0;
    tw_report_where(a, to, sizeof(to));
    tw_report_where(b, from, sizeof(from));
    snprintf(line, sizeof(line),
             "==%ld== threadwatch: lock-order-cycle: and %u more cycle%s through the same call sites "
             "as one reported above (a lock taken at %s while holding one taken at %s), over %u "
             "locks: not reported again\n", (long)getpid(), g->folded, g->folded == 1 ? "" : "s",
             to, from, g->nlocks);
    tw_report_log_line(line);
  }
}

static void on_lock_edge(const struct tw_event *ev, uint64_t thread) {
  if (!graph && !(graph = tw_lockgraph_new())) return;
  struct tw_edge_obs o = {
      .from = ev->a, .to = ev->b, .gate = ev->c, .thread = thread,
      .from_mode = (ev->flags & TW_EVF_FROM_READ) ? TW_LM_READ : TW_LM_WRITE,
      .to_mode = (ev->flags & TW_EVF_TO_READ) ? TW_LM_READ : TW_LM_WRITE,
      .from_kind = (ev->flags & TW_EVF_FROM_RWLOCK) ? TW_LK_RWLOCK
                   : (ev->flags & TW_EVF_FROM_SPIN) ? TW_LK_SPIN
                                                    : TW_LK_MUTEX,
      .to_kind = (ev->flags & TW_EVF_TO_RWLOCK) ? TW_LK_RWLOCK
                 : (ev->flags & TW_EVF_TO_SPIN) ? TW_LK_SPIN
                                                : TW_LK_MUTEX,
      .stack_to = ev->stack, .stack_from = ev->stack2,
  };
  static struct tw_report r; /* reporter-owned (analysis lock held), too big for its stack */
  if (tw_lockgraph_add(graph, &o, &r) && first_of_group(&r)) {
    for (uint32_t i = 0; i < r.nlocks; i++)
      tw_symbolize_data(r.locks[i].addr, r.locks[i].symbol, sizeof(r.locks[i].symbol));
    cycle_threads(&r, tw__now_ns());
    r.dropped = tw_registry_dropped();
    tw_report_emit(&r);
  }
  if (!tw__opt.lock_classes) return;
  if (!classes && !(classes = tw_lockgraph_new())) return;
  struct tw_edge_obs co = o;
  co.from = class_of(o.from, o.stack_from);
  co.to = class_of(o.to, o.stack_to);
  co.gate = 0; /* a gate lock is one object; its class says nothing about the threads here */
  if (!co.from || !co.to || co.from == co.to) return;
  if (tw_lockgraph_add(classes, &co, &r)) {
    r.what = "class-order";
    char msg[sizeof(r.message)];
    snprintf(msg, sizeof(msg), "between lock classes (locks first taken at the same places): %s",
             r.message);
    memcpy(r.message, msg, sizeof(r.message));
    /* The class graph's "addresses" are call sites: name each class by its site instead. */
    for (uint32_t i = 0; i < r.nlocks; i++) {
      char where[160];
      uintptr_t site = r.locks[i].addr;
      uint32_t id = tw_depot_put(&site, 1);
      tw_report_where(id, where, sizeof(where));
      snprintf(r.locks[i].name, sizeof(r.locks[i].name), "class %s", where);
      if (!r.locks[i].first_seen) r.locks[i].first_seen = id;
    }
    cycle_threads(&r, tw__now_ns());
    r.dropped = tw_registry_dropped();
    tw_report_emit(&r);
  }
}


void tw_locks_on_event(const struct tw_event *ev, uint64_t thread) {
  switch (ev->type) {
    case TW_EV_LOCK_EDGE: on_lock_edge(ev, thread); break;
    case TW_EV_LOCK_INIT: set_class((uintptr_t)ev->a, (uintptr_t)ev->c); break;
    case TW_EV_LOCK_RESET:
      /* aux 1: a lock found without its identity tag (lockorder.c ensure_identity). Only if an
       * older lock at that address really is in the graph are the hooks' caches made stale (a
       * new generation), so that edges into the new lock are sent again; a Bloom filter's false
       * positive (a million fresh mutexes) costs this event, not every cache in the process. */
      if (graph && tw_lockgraph_forget(graph, (uintptr_t)ev->a) && ev->aux == 1)
        tw_add_relaxed(&tw__lock_gen, 1);
      forget_class((uintptr_t)ev->a);
      break;
    case TW_EV_LOCK_RANGE_GONE: { /* an unloaded module's locks (hooks/dl.c) */
      if (graph) tw_lockgraph_forget_range(graph, (uintptr_t)ev->a, (uintptr_t)ev->b);
      struct lock_class *c, *tmp;
      HASH_ITER(hh, class_of_lock, c, tmp) {
        if (c->lock < ev->a || c->lock >= ev->b) continue;
        HASH_DEL(class_of_lock, c);
        free(c);
      }
      break;
    }
    default: break;
  }
}


void tw_locks_after_fork_child(bool consistent) {
  if (consistent) return; /* the graph's orders hold in the child too */
  /* The reporter may have been changing them: abandoned, not walked (a one-time leak). */
  graph = classes = NULL;
  class_of_lock = NULL;
  sites = NULL;
  site_groups = NULL;
  group_locks = NULL;
}
