/* pthread API misuse reports (reporter side): one report per misuse and call site. */
#include "detect/misuse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "runtime/event.h"
#include "runtime/names.h"
#include "report/report.h"
#include "runtime/stackdepot.h"
#include "report/symbolize.h"
#include "base/tw.h"
#include "report/emit.h"
#include "report/build.h"

static const char *const names[TW_MU_COUNT] = {
#define TW_MISUSE_NAME(id, name) name,
    TW_MISUSE_LIST(TW_MISUSE_NAME)
#undef TW_MISUSE_NAME
};

const char *tw_misuse_name(enum tw_misuse what) {
  return (unsigned)what < TW_MU_COUNT ? names[what] : "misuse";
}

/* Call sites already reported, by (what, site). */
struct site_key {
  uint32_t what;
  uint32_t pad;
  uintptr_t site;
};
struct site {
  struct site_key key;
  UT_hash_handle hh;
};
static struct site *sites;

/* True the first time (what, site) is seen. */
static bool first_time(enum tw_misuse what, uintptr_t site) {
  struct site_key k = {.what = what, .site = site};
  struct site *s = NULL;
  HASH_FIND(hh, sites, &k, sizeof(k), s);
  if (s) return false;
  s = calloc(1, sizeof(*s));
  if (!s) return true; /* no memory to remember it: report it anyway */
  s->key = k;
  HASH_ADD(hh, sites, key, sizeof(k), s);
  return true;
}

static const char *obj_kind(uint8_t k) {
  static const char *const kinds[] = {"mutex",     "rwlock",  "condvar", "thread",
                                      "semaphore", "barrier", "spinlock"};
  return k < TW_ARRAY_LEN(kinds) ? kinds[k] : "object";
}

/* `mutex 0x1234 "name" (accounts+40)`: the threadwatch_name_lock() name and the global it lies in,
 * each when there is one. */
static void describe(char *buf, size_t n, uint8_t kind, uintptr_t addr) {
  char sym[64] = "", name[TW_NAME_BYTES + 3] = "", quoted[TW_NAME_BYTES + 4] = "";
  tw_symbolize_data(addr, sym, sizeof(sym));
  if (kind != TW_MO_THREAD && tw_names_get(addr, name, TW_NAME_BYTES))
    snprintf(quoted, sizeof(quoted), " \"%s\"", name);
  snprintf(buf, n, "%s 0x%lx%s%s%s%s", obj_kind(kind), (unsigned long)addr, quoted,
           sym[0] ? " (" : "", sym, sym[0] ? ")" : "");
}

static struct tw_report r; /* analysis lock held; too big for the stack */

/* Appends thread `id` to the report, with `stack` as where it is (0: keep what the registry says). */
static struct tw_report_thread *add_thread(uint64_t id, uint32_t stack) {
  if (r.nthreads >= TW_REPORT_MAX_THREADS) return NULL;
  struct tw_report_thread *rt = &r.threads[r.nthreads++];
  struct tw_thread_snap s;
  if (id && tw_registry_snap_by_id(id, &s)) {
    tw_report_thread_from_snap(rt, &s, tw__now_ns());
  } else {
    memset(rt, 0, sizeof(*rt));
    rt->id = id;
    rt->state = TW_TS_EXITED;
  }
  if (stack) {
    rt->stack = stack;
    if (rt->state == TW_TS_BLOCKED) rt->state = TW_TS_RUNNING; /* its wait is not the topic */
  }
  return rt;
}

/* Context threads (a holder, waiters, a join target): listed after the actor, not counted. */
static void add_context(uint64_t id) {
  for (uint32_t i = 0; i < r.nthreads; i++)
    if (r.threads[i].id == id) return;
  if (add_thread(id, 0)) r.ncontext++;
}

static uint64_t id_of_tid(int32_t tid) {
  size_t n = 0;
  struct tw_thread_snap *all = tw_registry_snapshot_all(&n);
  uint64_t id = 0;
  for (size_t i = 0; all && i < n && !id; i++)
    if (all[i].tid == tid && all[i].life != TW_LIFE_EXITED) id = all[i].id;
  free(all);
  return id;
}

/* Every thread blocked on object `obj` of wait class `cls` right now, as context. */
static void add_waiters(uintptr_t obj, enum tw_wait_class cls) {
  size_t n = 0;
  struct tw_thread_snap *all = tw_registry_snapshot_all(&n);
  for (size_t i = 0; all && i < n; i++)
    if (all[i].life != TW_LIFE_EXITED && tw_call_class(all[i].wait.call) == cls &&
        all[i].wait.obj == obj)
      add_context(all[i].id);
  free(all);
}

static void begin(enum tw_misuse what, uint64_t thread, uint32_t stack) {
  memset(&r, 0, sizeof(r));
  r.kind = "misuse";
  r.what = tw_misuse_name(what);
  r.count = 1;
  add_thread(thread, stack);
}

static void emit(void) {
  r.dropped = tw_registry_dropped();
  tw_report_emit(&r);
}

/* exit-holding-locks arrives as one event per lock: gathered here until the last (index 0). */
static struct {
  uint64_t thread;
  uint8_t n;
  uintptr_t locks[TW_REPORT_MAX_HELD];
  uint8_t kinds[TW_REPORT_MAX_HELD];
  uint32_t total;
} exiting;

static void exit_holding(const struct tw_event *ev, uint64_t thread) {
  if (exiting.thread != thread) {
    memset(&exiting, 0, sizeof(exiting));
    exiting.thread = thread;
    exiting.total = (uint32_t)ev->b + 1;
  }
  if (exiting.n < TW_REPORT_MAX_HELD) {
    exiting.locks[exiting.n] = ev->a;
    exiting.kinds[exiting.n++] = ev->flags & TW_MO_KIND_MASK;
  }
  if (ev->b != 0) return; /* more to come */
  uint32_t total = exiting.total;
  exiting.thread = 0;
  if (!first_time(TW_MU_EXIT_HOLDING_LOCKS, ev->c)) return;
  /* The events came innermost first: list the locks outermost first, and show where the outermost
   * was taken (this event's stack). */
  begin(TW_MU_EXIT_HOLDING_LOCKS, thread, ev->stack);
  struct tw_report_thread *rt = &r.threads[0];
  rt->state = TW_TS_EXITED;
  char list[256] = "";
  size_t len = 0;
  for (uint8_t i = exiting.n; i-- > 0;) {
    rt->locks_held[rt->nlocks_held++].addr = exiting.locks[i];
    char d[96];
    describe(d, sizeof(d), exiting.kinds[i], exiting.locks[i]);
    len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0, "%s%s",
                            i + 1 == exiting.n ? "" : ", ", d);
    if (len >= sizeof(list)) len = sizeof(list) - 1;
  }
  char where[200];
  tw_report_where(ev->stack, where, sizeof(where));
  snprintf(r.object, sizeof(r.object), "%s", list);
  bool ends_process = ev->flags & TW_MO_ENDS_PROCESS;
  /* Ending the whole process with locks held is often meant: a server parks its workers on a lock
   * it holds (redis's I/O threads) or takes its locks to freeze the others while it exits. It only
   * hangs when an exit handler or destructor takes one of them (then a deadlock is reported): a
   * warning. A thread that ends alone leaves its locks to the threads that go on: an error. */
  if (ends_process) r.severity = "warning";
  snprintf(r.message, sizeof(r.message),
           "thread T%llu ended %swhile holding %u lock%s (%s); the first was taken at %s%s",
           (unsigned long long)thread,
           ends_process ? "the process (exit, or a return from main) " : "", total,
           total == 1 ? "" : "s", list, where,
           ends_process ? "; an exit handler or destructor that takes one of them will hang" : "");
  emit();
}

void tw_misuse_on_event(const struct tw_event *ev, uint64_t thread) {
  enum tw_misuse what = (enum tw_misuse)ev->aux;
  if (what >= TW_MU_COUNT) return;
  if (what == TW_MU_EXIT_HOLDING_LOCKS) {
    exit_holding(ev, thread);
    return;
  }
  /* cond-mutex-mismatch is one report per condvar (the scan's check uses the same key); its event
   * carries the other waiter's mutex where the others carry the call site. */
  if (!first_time(what, what == TW_MU_COND_MUTEX_MISMATCH ? ev->a : ev->c)) return;
  begin(what, thread, ev->stack);
  char obj[96], where[200];
  uint8_t kind = ev->flags & TW_MO_KIND_MASK;
  bool created_detached = ev->flags & TW_MO_CREATED_DETACHED;
  if (kind == TW_MO_THREAD) snprintf(obj, sizeof(obj), "thread T%llu", (unsigned long long)ev->b);
  else describe(obj, sizeof(obj), kind, (uintptr_t)ev->a);
  snprintf(r.object, sizeof(r.object), "%s", obj);
  tw_report_where(ev->stack, where, sizeof(where));
  unsigned long long me = (unsigned long long)thread;
  if (ev->stack2) {
    r.previous_at = ev->stack2;
    r.previous_by = ev->aux32;
  }
  switch (what) {
    case TW_MU_UNLOCK_NOT_OWNER: {
      uint64_t owner = id_of_tid((int32_t)ev->b);
      char by[48] = "another thread";
      if (owner) {
        snprintf(by, sizeof(by), "T%llu", (unsigned long long)owner);
        add_context(owner);
      }
      snprintf(r.message, sizeof(r.message),
               "T%llu unlocked %s at %s, but %s holds it (only the owner may unlock a mutex)", me,
               obj, where, by);
      break;
    }
    case TW_MU_UNLOCK_UNLOCKED:
      snprintf(r.message, sizeof(r.message), "T%llu unlocked %s at %s, which was not locked", me,
               obj, where);
      break;
    case TW_MU_DESTROY_LOCKED: {
      char by[48] = "";
      uint64_t owner = ev->aux32 ? ev->aux32 : ev->b ? id_of_tid((int32_t)ev->b) : 0;
      if (owner == thread) snprintf(by, sizeof(by), " by T%llu itself", me);
      else if (owner) snprintf(by, sizeof(by), " by T%llu", (unsigned long long)owner);
      if (owner && owner != thread) add_context(owner);
      r.previous_what = ev->stack2 ? "locked" : NULL;
      snprintf(r.message, sizeof(r.message), "T%llu destroyed %s at %s while it was locked%s", me,
               obj, where, by);
      break;
    }
    case TW_MU_DESTROY_WAITED:
      add_waiters((uintptr_t)ev->a, kind == TW_MO_SEM       ? TW_WC_SEM
                                    : kind == TW_MO_BARRIER ? TW_WC_BARRIER
                                                            : TW_WC_COND);
      snprintf(r.message, sizeof(r.message),
               "T%llu destroyed %s at %s while %llu thread%s waited on it, never woken", me, obj,
               where, (unsigned long long)ev->b, ev->b == 1 ? "" : "s");
      break;
    case TW_MU_USE_AFTER_DESTROY:
      r.previous_what = ev->stack2 ? "destroyed" : NULL;
      snprintf(r.message, sizeof(r.message), "T%llu used %s at %s after it was destroyed", me, obj,
               where);
      break;
    case TW_MU_COND_WAIT_UNLOCKED: {
      char mu[96];
      describe(mu, sizeof(mu), TW_MO_MUTEX, (uintptr_t)ev->b);
      snprintf(r.object, sizeof(r.object), "%s with %s", obj, mu);
      snprintf(r.message, sizeof(r.message),
               "T%llu waits on %s at %s with %s, which it does not hold", me, obj, where, mu);
      break;
    }
    case TW_MU_DOUBLE_JOIN:
    case TW_MU_JOIN_DETACHED:
    case TW_MU_DETACH_JOINED: {
      static const char *const verb[] = {"joined", "joins", "detached"};
      static const char *const state[] = {"already joined", "detached", "already joined"};
      int k = what == TW_MU_DOUBLE_JOIN ? 0 : what == TW_MU_JOIN_DETACHED ? 1 : 2;
      r.previous_what = !ev->stack2 ? NULL
                        : k != 1             ? "joined"
                        : created_detached   ? "created detached"
                                             : "detached";
      if (ev->b) add_context(ev->b);
      snprintf(r.message, sizeof(r.message), "T%llu %s %s at %s, which was %s", me, verb[k],
               ev->b ? obj : "a thread", where, state[k]);
      break;
    }
    case TW_MU_CALL_FAILED: {
      int e = TW_CALL_FAILED_ERR(ev->b);
      const char *ename = strerrorname_np(e);
      snprintf(r.message, sizeof(r.message),
               "T%llu called %s() on %s at %s and it failed with %s (%s)%s: the program went on as "
               "if it had worked", me, tw_call_name(TW_CALL_FAILED_CALL(ev->b)), obj, where,
               ename ? ename : "an error", strerror(e),
               TW_CALL_FAILED_BAD_TS(ev->b) ? "; its timeout's tv_nsec is outside [0, 999999999]"
                                            : "");
      break;
    }
    case TW_MU_SELF_RELOCK:
      r.previous_what = ev->stack2 ? "locked" : NULL;
      snprintf(r.message, sizeof(r.message),
               "T%llu locked %s again at %s while it already holds it: the call failed with "
               "EDEADLK (an error-checking lock), and the program went on", me, obj, where);
      break;
    case TW_MU_COND_MUTEX_MISMATCH: {
      /* This thread begins a wait with mutex b while thread aux32 waits with mutex c. */
      char mine[96], theirs[96];
      describe(mine, sizeof(mine), TW_MO_MUTEX, (uintptr_t)ev->b);
      describe(theirs, sizeof(theirs), TW_MO_MUTEX, (uintptr_t)ev->c);
      if (ev->aux32) add_context(ev->aux32); /* the other waiter, with its wait's stack */
      r.count = 2;
      r.ncontext = 0;
      snprintf(r.message, sizeof(r.message),
               "%s is waited on with two different mutexes at the same time: %s by T%llu at %s, "
               "while T%llu waits on it with %s (a condvar must be used with one mutex)",
               obj, mine, me, where, (unsigned long long)ev->aux32, theirs);
      break;
    }
    case TW_MU_BARRIER_ZERO_COUNT:
      snprintf(r.message, sizeof(r.message),
               "T%llu initialised %s at %s with a count of 0 (pthread_barrier_init fails with "
               "EINVAL: the barrier does not exist)", me, obj, where);
      break;
    case TW_MU_BARRIER_REINIT:
      r.previous_what = ev->stack2 ? "initialised" : NULL;
      snprintf(r.message, sizeof(r.message),
               "T%llu initialised %s again at %s, without destroying it first", me, obj, where);
      break;
    case TW_MU_REINIT_WAITED:
      add_waiters((uintptr_t)ev->a, TW_WC_BARRIER);
      snprintf(r.message, sizeof(r.message),
               "T%llu re-initialised %s at %s while %llu thread%s waited on it: they wait forever",
               me, obj, where, (unsigned long long)ev->b, ev->b == 1 ? "" : "s");
      break;
    case TW_MU_USE_UNINITIALISED:
      snprintf(r.message, sizeof(r.message), "T%llu used %s at %s, which was never initialised", me,
               obj, where);
      break;
    case TW_MU_RWLOCK_UNLOCK_NOT_HELD:
      snprintf(r.message, sizeof(r.message),
               "T%llu unlocked %s at %s, which it holds neither for reading nor for writing", me,
               obj, where);
      break;
    default:
      return;
  }
  emit();
}

void tw_misuse_cond_mismatch(const struct tw_thread_snap *a, const struct tw_thread_snap *b) {
  if (!first_time(TW_MU_COND_MUTEX_MISMATCH, a->wait.obj)) return;
  begin(TW_MU_COND_MUTEX_MISMATCH, a->id, 0); /* both stay as blocked, with their wait stacks */
  add_thread(b->id, 0);
  r.count = 2;
  char c[96], ma[96], mb[96];
  describe(c, sizeof(c), TW_MO_COND, a->wait.obj);
  describe(ma, sizeof(ma), TW_MO_MUTEX, a->wait.obj2);
  describe(mb, sizeof(mb), TW_MO_MUTEX, b->wait.obj2);
  snprintf(r.object, sizeof(r.object), "%s", c);
  snprintf(r.message, sizeof(r.message),
           "%s is waited on with two different mutexes at the same time: %s by T%llu and %s by "
           "T%llu (a condvar must be used with one mutex)",
           c, ma, (unsigned long long)a->id, mb, (unsigned long long)b->id);
  emit();
}
