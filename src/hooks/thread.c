/* A thread's whole life: adoption of threads we did not create, create and start, join (all
 * variants), detach, exit (the TSD destructor on every path), cancel, setname; and the same for
 * C11 threads (thrd_*), which glibc 2.34+ runs without calling the exported pthread functions. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/options.h"
#include "control/init.h"
#include "control/reporter.h"
#include "detect/leaks.h"
#include "hooks/hooks.h"
#include "race/hook.h"
#include "runtime/stackdepot.h"

/* --- adoption and exit --- */

static void join_abandoned(struct tw_tls *t);

static pthread_key_t exit_key;
static _Atomic int exit_key_state; /* 0 none, 1 being made, 2 made */

/* Our TSD destructor: the thread is leaving, on any path (return, pthread_exit, cancellation). */
static void on_thread_exit(void *p) {
  struct tw_thread *self = p;
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw_race_thread_exiting(self);
  join_abandoned(t);
  if (t->nheld) tw__misuse_exit_holding(t); /* before the record says it has exited */
  tw_registry_exited(self);
  if (t->held && t->held != t->inline_held) free(t->held);
  tw__lockorder_thread_exit(t); /* the edge cache (it was never freed: ~20 KB per exited thread) */
  t->held = NULL;
  t->nheld = t->cap = 0;
  t->self = NULL;
  t->gone = true; /* later TSD destructors and libc's own exit work pass straight through */
  tw__note_thread_left();
  tw_guard_leave(t);
}

void tw__thread_attach(struct tw_thread *self) {
  if (tw_unlikely(tw_load_acquire(&exit_key_state) != 2)) {
    int none = 0;
    if (atomic_compare_exchange_strong(&exit_key_state, &none, 1)) {
      pthread_key_create(&exit_key, on_thread_exit);
      tw_store_release(&exit_key_state, 2);
    } else {
      while (tw_load_acquire(&exit_key_state) != 2) sched_yield(); /* made by another thread now */
    }
  }
  pthread_setspecific(exit_key, self);
}

struct tw_thread *tw__self_slow(struct tw_tls *t) {
  if (t->gone) return NULL;
  tw_guard_enter(t);
  tw__ensure_init();
  if (!t->self) {
    t->self = tw_registry_adopt();
    if (t->self) {
      tw_store_relaxed(&t->self->tls, (uintptr_t)t);
      tw__thread_attach(t->self);
    }
  }
  tw_guard_leave(t);
  return t->self;
}

/* --- create and start --- */

struct tw_start {
  union {
    void *(*fn)(void *);  /* pthread_create */
    int (*c11_fn)(void *); /* thrd_create */
  };
  void *arg;
  struct tw_thread *rec;
};

/* First steps of every created thread: binds the record. The thread's exit on every path (return,
 * pthread_exit, thrd_exit, cancellation) is seen by the TSD destructor installed by
 * tw__thread_attach. Returns the start routine and its argument in *st (p is freed). */
static void thread_begin(void *p, struct tw_start *st) {
  *st = *(struct tw_start *)p;
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  free(p);
  tw_store_relaxed(&st->rec->tid, gettid());
  tw_tls_note_stack(t);
  t->self = st->rec;
  tw_store_relaxed(&st->rec->tls, (uintptr_t)t);
  tw_race_thread_started(st->rec);
  tw__thread_attach(st->rec);
  tw_registry_set_handle(st->rec, pthread_self());
  tw_guard_leave(t);
}

/* First frame of every thread made by pthread_create: binds the record, runs the application's
 * function. */
static void *tw_thread_start(void *p) {
  struct tw_start st;
  thread_begin(p, &st);
  return st.fn(st.arg);
}

/* The same for thrd_create: glibc calls it as a C11 start routine (int result). */
static int tw_thread_start_c11(void *p) {
  struct tw_start st;
  thread_begin(p, &st);
  return st.c11_fn(st.arg);
}

/* The record of a thread about to be created by the calling thread (its creation stack, the surge
 * check) and the argument of the trampoline, or NULL when out of memory (the thread then runs
 * unwatched rather than not at all). Errno kept. */
static struct tw_start *create_begin(struct tw_tls *t, bool detached) {
  TW_ERRNO_SAVE();
  struct tw_thread *parent = tw_self(t);
  tw_guard_enter(t);
  struct tw_start *st = malloc(sizeof(*st));
  struct tw_thread *rec = st ? tw_registry_new(parent, tw_stack_capture(), detached) : NULL;
  if (!rec) {
    free(st);
    tw_guard_leave(t);
    TW_ERRNO_RESTORE();
    return NULL;
  }
  st->rec = rec;
  uint64_t live = tw_registry_add(rec);
  if (tw_unlikely(live > tw__opt.max_threads)) tw_leaks_note_surge(live);
  tw_reporter_ensure_started();
  tw_guard_leave(t);
  TW_ERRNO_RESTORE();
  tw_race_thread_creating(rec);
  return st;
}

/* After the real create: `ok` with the new thread's handle, or its record undone. `st` belongs to
 * the new thread once it runs (it frees it): only a failed create may touch it. Errno kept. */
static void create_end(struct tw_tls *t, struct tw_start *st, struct tw_thread *rec, bool ok,
                       pthread_t th) {
  int saved = errno;
  tw_guard_enter(t);
  if (!ok) {
    free(st);
    tw_registry_discard(rec);
  } else {
    tw_registry_set_handle(rec, th);
    tw_registry_created_done(rec);
  }
  tw_guard_leave(t);
  errno = saved;
}

/* Cost: a record (calloc) and three short sections under the registry lock, the creation stack
 * (the call-path cache: a compare per frame when this path created a thread before, else a walk
 * of ~0.5 us per frame), and in the new thread its stack bounds and a TSD slot. */
TW_HOOK int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                           void *arg) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_create)(th, attr, fn, arg);
  int detach = PTHREAD_CREATE_JOINABLE;
  if (attr) pthread_attr_getdetachstate(attr, &detach);
  struct tw_start *st = create_begin(t, detach == PTHREAD_CREATE_DETACHED);
  if (!st) return TW_REAL_FN(pthread_create)(th, attr, fn, arg);
  st->fn = fn;
  st->arg = arg;
  struct tw_thread *rec = st->rec;
  int r = TW_REAL_FN(pthread_create)(th, attr, tw_thread_start, st);
  create_end(t, st, rec, r == 0, r == 0 ? *th : 0);
  return r;
}

TW_HOOK int thrd_create(thrd_t *th, thrd_start_t fn, void *arg) {
  if (!TW_REAL_FN(thrd_create)) return thrd_error;
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(thrd_create)(th, fn, arg);
  struct tw_start *st = create_begin(t, false);
  if (!st) return TW_REAL_FN(thrd_create)(th, fn, arg);
  st->c11_fn = fn;
  st->arg = arg;
  struct tw_thread *rec = st->rec;
  int r = TW_REAL_FN(thrd_create)(th, tw_thread_start_c11, st);
  create_end(t, st, rec, r == thrd_success, r == thrd_success ? (pthread_t)*th : 0);
  return r;
}

/* --- join and detach --- */

/* A join cancelled while it waits (pthread_join is a cancellation point) ends the join in progress
 * (the target was not joined). The cancelled thread always exits, and on_thread_exit (our TSD
 * destructor) ends it there: a cleanup handler in this frame is not reliably run by glibc's
 * cancellation unwind (observed with glibc 2.36). */
static void join_abandoned(struct tw_tls *t) {
  struct tw_thread *target = t->joining;
  if (!target) return;
  t->joining = NULL;
  tw_registry_join_end(target, ECANCELED, 0, 0);
}

/* double-join, join-detached (before the real call, which may crash or hang on them). */
static void join_checks(struct tw_tls *t, pthread_t th, uintptr_t pc, uintptr_t sp) {
  struct tw_handle_fact f;
  tw_guard_enter(t);
  tw_registry_handle_fact(th, &f);
  tw_guard_leave(t);
  enum tw_misuse what;
  if (f.state == TW_HS_JOINED) what = TW_MU_DOUBLE_JOIN;
  else if (f.state == TW_HS_DETACHED) what = TW_MU_JOIN_DETACHED;
  else return;
  tw__misuse(t, what, TW_MO_THREAD | (f.created_detached ? TW_MO_CREATED_DETACHED : 0),
             (uintptr_t)th, f.id, f.stack, f.by, pc, sp, 0);
}

/* Where a join or detach that succeeded was made, for a later misuse report: the caller's return
 * address only (a whole stack for every join would cost a stack walk each; one frame names the
 * function and line). Guard held. */
static uint32_t done_at(uintptr_t pc, uintptr_t sp) {
  (void)sp;
  return tw_depot_put(&pc, 1);
}

/* Shared body of the four joins. `call` (and `try_only`) pick the real call. */
static int join_common(pthread_t th, void **ret, enum tw_call call, int try_only, clockid_t clk,
                       const struct timespec *ts, uintptr_t pc, uintptr_t sp) {
  struct tw_tls *t = tw_tls();
  struct tw_thread *self = NULL, *target = NULL;
  int r;
  const int watched = !TW_BYPASS(t) && !try_only;
  if (!TW_BYPASS(t)) {
    join_checks(t, th, pc, sp);
    TW_ERRNO_SAVE();
    tw_guard_enter(t);
    target = tw_registry_lookup(th); /* before the handle can be reused */
    if (target) tw_registry_join_begin(target);
    t->joining = target;
    tw_guard_leave(t);
    if (watched) self = tw_wait_enter(t, call, (uintptr_t)th, 0, -1);
    TW_ERRNO_RESTORE();
  }
  pthread_cleanup_push(tw__wait_cancel_cleanup, self);
  if (try_only) r = TW_REAL_FN(pthread_tryjoin_np)(th, ret);
  else if (call == TW_CALL_THRD_JOIN) r = TW_REAL_FN(thrd_join)(th, (int *)ret); /* thrd_success: 0 */
  else if (call == TW_CALL_TIMEDJOIN) r = TW_REAL_FN(pthread_timedjoin_np)(th, ret, ts);
  else if (call == TW_CALL_CLOCKJOIN) r = TW_REAL_FN(pthread_clockjoin_np)(th, ret, clk, ts);
  else r = TW_REAL_FN(pthread_join)(th, ret);
  pthread_cleanup_pop(0);
  if (r == 0 && target) tw_race_joined(target);
  if (watched) tw_wait_leave(t, self);
  if (target) {
    int saved = errno;
    tw_guard_enter(t);
    t->joining = NULL;
    tw_registry_join_end(target, r, r == 0 ? done_at(pc, sp) : 0, t->self ? t->self->id : 0);
    tw_guard_leave(t);
    errno = saved;
  }
  return r;
}

/* A detach or join made while the thread is leaving (from a TSD destructor that runs after ours:
 * GLib drops its last reference to a GThread there and detaches the thread): recorded all the same,
 * or the thread would be "exited but never joined". The thread's own record is found by its handle:
 * an exited joinable record stays in the handle table until it is joined or detached. */
static TW_NOINLINE int lifecycle_while_leaving(struct tw_tls *t, pthread_t th, void **ret,
                                               bool join, int (*detach)(pthread_t)) {
  tw_guard_enter(t);
  struct tw_thread *target = tw_registry_lookup(th);
  if (target) {
    if (join) tw_registry_join_begin(target);
    else tw_registry_detach_begin(target);
  }
  tw_guard_leave(t);
  int r = join ? TW_REAL_FN(pthread_join)(th, ret) : detach(th);
  if (target) {
    int saved = errno;
    tw_guard_enter(t);
    if (join) tw_registry_join_end(target, r, 0, 0);
    else tw_registry_detach_end(target, r, 0, 0);
    tw_guard_leave(t);
    errno = saved;
  }
  return r;
}

/* Cost of the joins: four short sections under the registry lock (checks, lookup, begin, end),
 * the wait state around an untimed join (a dozen stores, a clock read), one pc interned. */
#define TW_JOIN_SITE TW_CALLER_PC(), TW_CALLER_SP()
TW_HOOK int pthread_join(pthread_t th, void **ret) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(t->gone) && !t->guard) return lifecycle_while_leaving(t, th, ret, true, NULL);
  return join_common(th, ret, TW_CALL_JOIN, 0, 0, NULL, TW_JOIN_SITE);
}
TW_HOOK int pthread_tryjoin_np(pthread_t th, void **ret) {
  return join_common(th, ret, TW_CALL_JOIN, 1, 0, NULL, TW_JOIN_SITE);
}
TW_HOOK int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *ts) {
  return join_common(th, ret, TW_CALL_TIMEDJOIN, 0, 0, ts, TW_JOIN_SITE);
}
TW_HOOK int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clk, const struct timespec *ts) {
  if (!TW_REAL_FN(pthread_clockjoin_np)) return ENOSYS;
  return join_common(th, ret, TW_CALL_CLOCKJOIN, 0, clk, ts, TW_JOIN_SITE);
}

TW_HOOK int thrd_join(thrd_t th, int *res) {
  if (!TW_REAL_FN(thrd_join)) return thrd_error;
  return join_common(th, (void **)res, TW_CALL_THRD_JOIN, 0, 0, NULL, TW_JOIN_SITE);
}

/* pthread_detach and thrd_detach (both return 0 on success). Cost: three short sections under the
 * registry lock. */
static int detach_common(pthread_t th, int (*real)(pthread_t), uintptr_t pc, uintptr_t sp) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(t->gone) && !t->guard) return lifecycle_while_leaving(t, th, NULL, false, real);
  if (TW_BYPASS(t)) return real(th);
  TW_ERRNO_SAVE();
  struct tw_thread *self = tw_self(t), *target;
  tw_guard_enter(t);
  /* Resolved before the real call: a detached thread that has exited is freed by it, and its
   * pthread_t may name a new thread right after. A thread detaching itself is its own record. */
  target = self && pthread_equal(th, pthread_self()) ? self : tw_registry_lookup(th);
  if (target) tw_registry_detach_begin(target);
  struct tw_handle_fact f = {0};
  if (target != self) tw_registry_handle_fact(th, &f);
  tw_guard_leave(t);
  TW_ERRNO_RESTORE();
  /* detach-joined: the thread was joined (its handle may be gone), or is being joined right now. */
  if (f.state == TW_HS_JOINED || f.state == TW_HS_JOINING)
    tw__misuse(t, TW_MU_DETACH_JOINED, TW_MO_THREAD, (uintptr_t)th, f.id,
               f.state == TW_HS_JOINED ? f.stack : 0, f.state == TW_HS_JOINED ? f.by : 0, pc, sp,
               0);
  int r = real(th);
  if (target) {
    int saved = errno;
    tw_guard_enter(t);
    tw_registry_detach_end(target, r, r == 0 ? done_at(pc, sp) : 0, self ? self->id : 0);
    tw_guard_leave(t);
    errno = saved;
  }
  return r;
}

TW_HOOK int pthread_detach(pthread_t th) {
  return detach_common(th, TW_REAL_FN(pthread_detach), TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int thrd_detach(thrd_t th) {
  if (!TW_REAL_FN(thrd_detach)) return thrd_error;
  return detach_common(th, TW_REAL_FN(thrd_detach), TW_CALLER_PC(), TW_CALLER_SP());
}

/* The thread is leaving through pthread_exit or thrd_exit (from main: the process ends with its
 * last thread, hazard 13). */
static void note_exit(void) {
  struct tw_tls *t = tw_tls();
  if (!TW_BYPASS(t)) {
    tw_guard_enter(t);
    tw__note_pthread_exit();
    tw_guard_leave(t);
  }
}

/* Cost: a flag; the thread's exit work runs in our TSD destructor (on_thread_exit). */
TW_HOOK void pthread_exit(void *ret) {
  note_exit();
  TW_REAL_FN(pthread_exit)(ret);
  __builtin_unreachable();
}

TW_HOOK void thrd_exit(int res) {
  note_exit();
  if (TW_REAL_FN(thrd_exit)) TW_REAL_FN(thrd_exit)(res);
  TW_REAL_FN(pthread_exit)((void *)(intptr_t)res); /* what glibc's thrd_exit does */
  __builtin_unreachable();
}

/* Cost: none (passed through). */
TW_HOOK int pthread_cancel(pthread_t th) { return TW_REAL_FN(pthread_cancel)(th); }

/* Cost: one section under the registry lock. */
TW_HOOK int pthread_setname_np(pthread_t th, const char *name) {
  struct tw_tls *t = tw_tls();
  int r = TW_REAL_FN(pthread_setname_np)(th, name);
  if (r == 0 && !TW_BYPASS(t)) {
    int saved = errno;
    tw_self(t);
    tw_guard_enter(t);
    tw_registry_set_name(th, name);
    tw_guard_leave(t);
    errno = saved;
  }
  return r;
}
