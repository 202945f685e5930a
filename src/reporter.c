/* The reporter thread: drains every ring each tick, feeds the detectors, prints the summary line. */
#include "reporter.h"

#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "fdtrack.h"
#include "leaks.h"
#include "lockgraph.h"
#include "misuse.h"
#include "options.h"
#include "out.h"
#include "race.h"
#include "real.h"
#include "report.h"
#include "stackdepot.h"
#include "stats.h"
#include "symbolize.h"
#include "tls.h"
#include "waits.h"

#include <uthash.h>

static pthread_mutex_t analysis = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int started;
static _Atomic int exit_wanted;
static _Atomic int surge_state; /* 0 none, 1 capturing, 2 captured and due, 3 reported */
static uint64_t last_summary_ns;

void tw_analysis_lock(void) { TW_REAL_FN(pthread_mutex_lock)(&analysis); }
void tw_analysis_unlock(void) { TW_REAL_FN(pthread_mutex_unlock)(&analysis); }

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

static void on_lock_edge(const struct tw_event *ev, uint64_t thread) {
  if (!graph && !(graph = tw_lockgraph_new())) return;
  struct tw_edge_obs o = {
      .from = ev->a, .to = ev->b, .gate = ev->c, .thread = thread,
      .from_mode = (ev->flags & TW_EVF_FROM_READ) ? TW_LM_READ : TW_LM_WRITE,
      .to_mode = (ev->flags & TW_EVF_TO_READ) ? TW_LM_READ : TW_LM_WRITE,
      .from_kind = (ev->flags & TW_EVF_FROM_RWLOCK) ? TW_LK_RWLOCK : TW_LK_MUTEX,
      .to_kind = (ev->flags & TW_EVF_TO_RWLOCK) ? TW_LK_RWLOCK : TW_LK_MUTEX,
      .stack_to = ev->stack, .stack_from = ev->stack2,
  };
  static struct tw_report r; /* reporter-owned (analysis lock held), too big for its stack */
  if (tw_lockgraph_add(graph, &o, &r)) {
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

/* Lock events of one drain, applied in their sequence order once every ring is drained. */
struct pending {
  struct tw_event ev;
  uint64_t thread;
};
static struct pending *batch;
static size_t nbatch, capbatch;

static void on_lock_event(const struct tw_event *ev, uint64_t thread) {
  switch (ev->type) {
    case TW_EV_LOCK_EDGE: on_lock_edge(ev, thread); break;
    case TW_EV_LOCK_INIT: set_class((uintptr_t)ev->a, (uintptr_t)ev->c); break;
    case TW_EV_LOCK_RESET:
      if (graph) tw_lockgraph_forget(graph, (uintptr_t)ev->a);
      forget_class((uintptr_t)ev->a);
      break;
    default: break;
  }
}

static void on_event(const struct tw_event *ev, uint64_t thread, void *ctx) {
  (void)ctx;
  tw_stat_add(events, 1);
  if (ev->type == TW_EV_FD_IO) {
    tw_fdfacts_on_event(ev);
    return;
  }
  if (ev->type == TW_EV_COND_NOWAITER) {
    tw_waits_on_event(ev, thread);
    return;
  }
  if (ev->type == TW_EV_MISUSE) {
    tw_misuse_on_event(ev, thread);
    return;
  }
  if (ev->type == TW_EV_RACE_ACCESS) {
    tw_race_on_event(ev, thread);
    return;
  }
  if (nbatch == capbatch) {
    size_t ncap = capbatch ? capbatch * 2 : 1024;
    struct pending *nb = realloc(batch, sizeof(*nb) * ncap);
    if (!nb) { /* no memory to order them: apply as they come */
      on_lock_event(ev, thread);
      return;
    }
    batch = nb;
    capbatch = ncap;
  }
  batch[nbatch++] = (struct pending){*ev, thread};
}

/* Sequence numbers wrap: compare by signed difference (a batch spans far less than 2^31). */
static int by_seq(const void *a, const void *b) {
  int32_t d = (int32_t)(((const struct pending *)a)->ev.aux32 - ((const struct pending *)b)->ev.aux32);
  return d < 0 ? -1 : d > 0;
}



static void summary_line(uint64_t now) {
  struct tw_registry_counts c;
  tw_registry_counts(&c);
  struct tw_thread_snap snaps[256];
  size_t got = tw_registry_snapshot(snaps, TW_ARRAY_LEN(snaps)); /* a sample past 256 threads */
  unsigned blocked = 0, by_class[TW_WC_FD + 1] = {0};
  for (size_t i = 0; i < got && i < TW_ARRAY_LEN(snaps); i++) {
    if (snaps[i].life == TW_LIFE_EXITED || snaps[i].wait.call == TW_CALL_NONE) continue;
    blocked++;
    by_class[tw_call_class(snaps[i].wait.call)]++;
  }
  char line[512];
  snprintf(line, sizeof(line),
           "==%ld== threadwatch: summary: %llu live threads (%llu running, %u blocked: %u mutex, "
           "%u rwlock, %u condvar, %u join, %u fd), %llu created, %llu exited; %llu events, %llu "
           "dropped, %u stacks, %llu reports\n",
           (long)getpid(), (unsigned long long)c.live, (unsigned long long)(c.live - blocked),
           blocked, by_class[TW_WC_MUTEX], by_class[TW_WC_RWLOCK], by_class[TW_WC_COND],
           by_class[TW_WC_JOIN], by_class[TW_WC_FD], (unsigned long long)c.created,
           (unsigned long long)c.exited, (unsigned long long)tw_stat_get(events),
           (unsigned long long)tw_registry_dropped(), tw_depot_count(),
           (unsigned long long)tw_stat_get(reports));
  tw_report_log_line(line);
  last_summary_ns = now;
}

static uint64_t last_drained;

/* Every ring drained into the detectors; lock events applied in their sequence order. */
static void drain_all(void) {
  nbatch = 0;
  last_drained = tw_registry_drain(on_event, NULL);
  qsort(batch, nbatch, sizeof(*batch), by_seq);
  for (size_t i = 0; i < nbatch; i++) on_lock_event(&batch[i].ev, batch[i].thread);
}

bool tw_reporter_running(void) { return tw_load_acquire(&started) != 0; }

void tw_reporter_drain_inline(void) {
  tw_analysis_lock();
  if (!tw_reporter_running()) drain_all();
  tw_analysis_unlock();
}

void tw_reporter_tick(uint64_t now_ns, bool final) {
  drain_all();
  int due = 2;
  if (atomic_compare_exchange_strong(&surge_state, &due, 3)) tw_leaks_report_surge();
  if (!final && tw__opt.interval_ns && now_ns - last_summary_ns >= tw__opt.interval_ns)
    summary_line(now_ns);
  if (!final) tw_waits_scan(now_ns);
  if (!final) tw_control_poll();
}

void tw_reporter_note_surge(uint64_t live) {
  int none = 0;
  if (!atomic_compare_exchange_strong(&surge_state, &none, 1)) return;
  tw_leaks_capture_surge(live); /* now, while the threads are alive; written on the next tick */
  tw_store_release(&surge_state, 2);
}

void tw_reporter_wake_for_exit(void) { tw_store_release(&exit_wanted, 1); }

static void *reporter_main(void *arg) {
  (void)arg;
  struct tw_tls *t = tw_tls();
  t->guard = 1; /* for good: every hooked call this thread makes goes straight through */
  t->gone = true;
  last_summary_ns = tw__now_ns();
  tw_analysis_lock();
  tw_control_start();
  tw_analysis_unlock();
  for (;;) {
    /* Sleep a tick, or less after a busy drain, or until a producer with a full ring nudges. */
    tw_ring_wait_nudge(last_drained > TW_RING_SLOTS / 8 ? TW_TICK_BUSY_NS : TW_TICK_NS);
    if (tw_load_acquire(&exit_wanted)) {
      /* main called pthread_exit and every application thread has left: leave too, so glibc ends
       * the process (exit(0), our destructor writes the exit reports on this thread). */
      TW_REAL_FN(pthread_exit)(NULL);
    }
    tw_analysis_lock();
    tw_reporter_tick(tw__now_ns(), false);
    tw_analysis_unlock();
  }
  return NULL;
}

void tw_reporter_ensure_started(void) {
  if (tw_likely(tw_load_acquire(&started))) return;
  int expected = 0;
  if (!atomic_compare_exchange_strong(&started, &expected, 1)) return;
  /* The reporter must never run the application's signal handlers: it starts with all blocked. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t th;
  int rc = TW_REAL_FN(pthread_create)(&th, &attr, reporter_main, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    static const char msg[] =
        "threadwatch: cannot start the reporter thread; reports are made at exit only\n";
    tw__write_all(2, msg, sizeof(msg) - 1);
    return;
  }
  TW_REAL_FN(pthread_setname_np)(th, "threadwatch");
}

void tw_reporter_fork_prepare(void) { tw_analysis_lock(); }
void tw_reporter_fork_parent(void) { tw_analysis_unlock(); }

void tw_reporter_after_fork_child(void) {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&analysis, &fresh, sizeof(fresh));
  tw_store_relaxed(&started, 0); /* no reporter thread in the child until it is needed */
  tw_store_relaxed(&exit_wanted, 0);
  tw_store_relaxed(&surge_state, 0);
  tw_control_after_fork_child();
  tw_waits_after_fork_child();
}
