/* Hooks for pthread_cond_* (the GLIBC_2.3.2 versions, hazard 2) and C11's cnd_* (a cnd_t is a
 * pthread_cond_t, waited on without the exported functions): condvar waits, cancellation-safe. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "hooks/hooks.h"
#include "race/hook.h"
#include "runtime/callsite.h"
#include "runtime/ring.h"
#include "runtime/stackdepot.h"

/* The mutex stays on the held-lock stack during the wait: the thread holds it again whenever it runs
 * application code, including the cleanup handlers of a cancelled wait (hazard 4). The wait-for
 * analysis knows a condvar waiter does not hold it meanwhile. */

/* --- misuse checks (misuse.h) --- */

/* glibc's pthread_cond_destroy sets bit 2 of __wrefs (its wake-request flag) and nothing else does:
 * a destroyed condvar keeps it until pthread_cond_init or the static initializer. Bits 3 and up
 * count the waiters. */
#define TW_COND_DESTROYED_BIT 4u
static inline bool destroyed(pthread_cond_t *c) {
  return __atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) & TW_COND_DESTROYED_BIT;
}
static inline unsigned waiters(pthread_cond_t *c) {
  return __atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) >> 3;
}

/* Where condvars were destroyed, for the report of a later use: a small table (the condvar's own
 * words are glibc's, and a use after destroy must behave as it would without us). Best effort: a
 * collision loses the place, never the report. */
#define TW_COND_GRAVES 256u
static struct grave {
  _Atomic uintptr_t cond;
  _Atomic uintptr_t pc;
  _Atomic uint64_t by;
} graves[TW_COND_GRAVES];

static inline struct grave *grave_of(pthread_cond_t *c) {
  return &graves[((uintptr_t)c * 0x9E3779B97F4A7C15ull >> 40) & (TW_COND_GRAVES - 1)];
}

static TW_NOINLINE void use_after_destroy(struct tw_tls *t, pthread_cond_t *c, uintptr_t pc,
                                          uintptr_t sp) {
  TW_ERRNO_SAVE(); /* stack walks and sleeps below may set it */
  struct grave *g = grave_of(c);
  uintptr_t at = tw_load_relaxed(&g->pc);
  uint64_t by = tw_load_relaxed(&g->by);
  bool known = tw_load_acquire(&g->cond) == (uintptr_t)c && at;
  tw__misuse(t, TW_MU_USE_AFTER_DESTROY, TW_MO_COND, (uintptr_t)c, 0,
             known ? tw_depot_put(&at, 1) : 0, known ? by : 0, pc, sp, 0);
  TW_ERRNO_RESTORE();
}

static TW_NOINLINE void wait_checks(struct tw_tls *t, pthread_cond_t *c, pthread_mutex_t *m,
                                    uintptr_t pc, uintptr_t sp) {
  if (destroyed(c)) use_after_destroy(t, c, pc, sp);
  if (!tw_held_find(t, (uintptr_t)m, -1))
    tw__misuse(t, TW_MU_COND_WAIT_UNLOCKED, TW_MO_COND, (uintptr_t)c, (uintptr_t)m, 0, 0, pc, sp, 0);
}

/* The mutex each condvar is being waited on with right now, so that a wait with another mutex is
 * seen the moment it begins (cond-mutex-mismatch), not only when a 100 ms scan finds both waiters
 * blocked. A small table keyed by condvar address (a condvar has no word of its own to spare);
 * each slot's lock is held for a few instructions. A condvar that finds no slot (table full
 * around it) is left to the scan. */
#define TW_COND_USERS 256u
#define TW_COND_USERS_PROBE 4u
static struct cond_user {
  _Atomic int lock;
  uintptr_t cond, mutex;
  uint32_t waiters;
  uint64_t thread;   /* a thread waiting with `mutex` */
} users[TW_COND_USERS];

static void user_lock(struct cond_user *u) {
  for (int expected = 0; !atomic_compare_exchange_weak(&u->lock, &expected, 1); expected = 0)
    __builtin_ia32_pause();
}
static void user_unlock(struct cond_user *u) { tw_store_release(&u->lock, 0); }

/* Registers a waiter of c with m. When another waiter waits on c with another mutex right now,
 * fills *other (its mutex and thread) and returns true. */
static bool user_enter(uintptr_t c, uintptr_t m, uint64_t thread, struct cond_user *other) {
  size_t h = (size_t)((c * 0x9E3779B97F4A7C15ull) >> 40) & (TW_COND_USERS - 1);
  for (unsigned k = 0; k < TW_COND_USERS_PROBE; k++) {
    struct cond_user *u = &users[(h + k) & (TW_COND_USERS - 1)];
    user_lock(u);
    if (u->waiters && u->cond != c) { /* another condvar's */
      user_unlock(u);
      continue;
    }
    bool mismatch = u->waiters && u->mutex != m;
    if (mismatch) *other = *u;
    if (!u->waiters || !mismatch) { /* the first, or one more with the same mutex */
      u->cond = c;
      u->mutex = m;
      u->thread = thread;
    }
    u->waiters++;
    user_unlock(u);
    return mismatch;
  }
  return false;
}

static void user_leave(uintptr_t c) {
  size_t h = (size_t)((c * 0x9E3779B97F4A7C15ull) >> 40) & (TW_COND_USERS - 1);
  for (unsigned k = 0; k < TW_COND_USERS_PROBE; k++) {
    struct cond_user *u = &users[(h + k) & (TW_COND_USERS - 1)];
    user_lock(u);
    bool mine = u->waiters && u->cond == c;
    if (mine && --u->waiters == 0) u->cond = 0;
    user_unlock(u);
    if (mine) return;
  }
}

static void user_leave_cleanup(void *c) { user_leave((uintptr_t)c); }

/* Reported before this thread's wait is published (it still holds its mutex until the real wait
 * releases it: published, it would look like a waiter holding a lock). The event carries the
 * other mutex where a misuse carries its call site, so this wait's stack is captured here. */
static TW_NOINLINE void mismatch_found(struct tw_tls *t, pthread_cond_t *c, pthread_mutex_t *m,
                                       const struct cond_user *other, uintptr_t pc, uintptr_t sp) {
  tw_guard_enter(t);
  uint32_t stack = tw_stack_capture_earlier(pc, sp);
  tw_guard_leave(t);
  tw__misuse(t, TW_MU_COND_MUTEX_MISMATCH, TW_MO_COND, (uintptr_t)c, (uintptr_t)m, 0,
             other->thread, other->mutex, 0, stack);
}

static TW_NOINLINE int cond_wait_common(pthread_cond_t *c, pthread_mutex_t *m, enum tw_call call,
                                        clockid_t clk, const struct timespec *ts, uintptr_t pc,
                                        uintptr_t sp) {
  struct tw_tls *t = tw_tls();
  bool held = tw_held_find(t, (uintptr_t)m, -1) != NULL;
  if (tw_unlikely(destroyed(c)) || !held) wait_checks(t, c, m, pc, sp);
  TW_ERRNO_SAVE();
  struct cond_user other;
  if (user_enter((uintptr_t)c, (uintptr_t)m, t->self ? t->self->id : 0, &other))
    mismatch_found(t, c, m, &other, pc, sp);
  struct tw_thread *self = tw_wait_enter(t, call, (uintptr_t)c, (uintptr_t)m, -1);
  TW_ERRNO_RESTORE();
  int r;
  tw_race_cond_waiting(c, m);
  pthread_cleanup_push(user_leave_cleanup, (void *)c);
  pthread_cleanup_push(tw__wait_cancel_cleanup, self);
  switch (call) {
    case TW_CALL_COND_TIMEDWAIT: r = TW_REAL_FN(pthread_cond_timedwait)(c, m, ts); break;
    case TW_CALL_COND_CLOCKWAIT: r = TW_REAL_FN(pthread_cond_clockwait)(c, m, clk, ts); break;
    case TW_CALL_CND_WAIT: r = TW_REAL_FN(cnd_wait)((cnd_t *)(void *)c, (mtx_t *)(void *)m); break;
    case TW_CALL_CND_TIMEDWAIT:
      r = TW_REAL_FN(cnd_timedwait)((cnd_t *)(void *)c, (mtx_t *)(void *)m, ts);
      break;
    default: r = TW_REAL_FN(pthread_cond_wait)(c, m); break;
  }
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  user_leave((uintptr_t)c);
  tw_race_cond_woken(c, m, r);
  tw_wait_leave(t, self);
  /* EPERM: an error-checking mutex not held, already reported as cond-wait-unlocked. */
  if (tw_unlikely(!tw_result_expected(r)) && !(r == EPERM && !held))
    tw__call_result(t, call, TW_MO_COND, (uintptr_t)c, r, ts, pc, sp);
  /* A wait entered without the mutex (cond-wait-unlocked) returns holding it all the same. */
  if (!held && __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) == gettid()) {
    int saved = errno;
    tw_held_push(t, (uintptr_t)m, pc, sp, TW_HELD_MUTEX);
    errno = saved;
  }
  return r;
}

/* Cost of the three waits: a held-lock lookup of the mutex (the top entry, usually), the wait
 * state (the call site from our frame pointers, a dozen stores, a clock read; no stack walk: the
 * reporter unwinds a waiter only when it reports it) and its end after the real call. */
TW_HOOK int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_cond_wait)(c, m);
  return cond_wait_common(c, m, TW_CALL_COND_WAIT, 0, NULL, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_cond_timedwait)(c, m, ts);
  return cond_wait_common(c, m, TW_CALL_COND_TIMEDWAIT, 0, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                                   const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (!TW_REAL_FN(pthread_cond_clockwait)) return ENOSYS;
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_cond_clockwait)(c, m, clk, ts);
  return cond_wait_common(c, m, TW_CALL_COND_CLOCKWAIT, clk, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

/* A signal that finds no waiter is a no-op; if a thread then waits without checking a predicate, the
 * wakeup is lost. Such signals are told to the reporter (it names them when a waiter stalls), at most
 * once per condvar and call site every TW_NOWAITER_REFRESH_NS per thread: a correct program may
 * signal an empty condvar at a high rate (CPython signals its GIL condvar on every release).
 * glibc's own test is the same: no waiter references in __wrefs (bits 3 and up).
 *
 * Cost: a signal with no waiter costs a clock read and two compares. When an event is due, the
 * signaller's stack comes from the call-path cache (the same path seen before: a compare per
 * frame), else from the last capture at the same condvar and call site if it is less than
 * TW_NOWAITER_STACK_NS old (the same innermost frame; outer frames may be another call's: a
 * thread-per-connection Python server would otherwise walk 30 interpreter frames in every new
 * thread), else from a stack walk. The thread and the time are always this signal's own. */
#define TW_NOWAITER_REFRESH_NS (100ull * 1000 * 1000)
#define TW_NOWAITER_STACK_NS (1000ull * 1000 * 1000)

/* Recent no-waiter stacks by (condvar, call site): a key hash and the stack id in one word, so a
 * reader never pairs a key with another entry's stack; the capture time beside it. */
#define TW_NOWAITER_SITES 64u
static struct {
  _Atomic uint64_t key_stack;
  _Atomic uint64_t when;
} nowaiter_sites[TW_NOWAITER_SITES];

static uint32_t site_key(uintptr_t c, uintptr_t pc, uint32_t *slot) {
  uint64_t h = (uint64_t)c * 0x9E3779B97F4A7C15ull ^ (uint64_t)pc * 0xC2B2AE3D27D4EB4Full;
  *slot = (uint32_t)(h >> 58) & (TW_NOWAITER_SITES - 1);
  return (uint32_t)(h >> 16) | 1;
}

static uint32_t nowaiter_stack(pthread_cond_t *c, uintptr_t pc, uintptr_t sp, uint64_t now) {
  const struct tw_tls *t = tw_tls();
  uint32_t exact = tw_callsite_find_local(pc, sp, t->stack_lo, t->stack_hi);
  if (exact) return exact;
  uint32_t slot, key = site_key((uintptr_t)c, pc, &slot);
  uint64_t ks = tw_load_relaxed(&nowaiter_sites[slot].key_stack);
  uint64_t when = tw_load_relaxed(&nowaiter_sites[slot].when);
  if ((uint32_t)(ks >> 32) == key && (uint32_t)ks && now - when < TW_NOWAITER_STACK_NS)
    return (uint32_t)ks;
  uint32_t stack = tw_stack_capture_earlier(pc, sp);
  if (stack) {
    tw_store_relaxed(&nowaiter_sites[slot].key_stack, (uint64_t)key << 32 | stack);
    tw_store_relaxed(&nowaiter_sites[slot].when, now);
  }
  return stack;
}

static TW_NOINLINE void note_no_waiter(struct tw_tls *t, pthread_cond_t *c, uintptr_t pc,
                                       uintptr_t sp, int broadcast) {
  uint64_t now = tw__now_ns();
  if (t->nowaiter_cond == (uintptr_t)c && t->nowaiter_pc == pc &&
      now - t->nowaiter_ns < TW_NOWAITER_REFRESH_NS)
    return;
  struct tw_thread *self = tw_self(t);
  if (!self) return;
  TW_ERRNO_SAVE();
  tw_guard_enter(t);
  t->nowaiter_cond = (uintptr_t)c;
  t->nowaiter_pc = pc;
  t->nowaiter_ns = now;
  struct tw_event ev = {.type = TW_EV_COND_NOWAITER, .aux = (uint16_t)broadcast, .a = (uintptr_t)c,
                        .c = now, .stack = nowaiter_stack(c, pc, sp, now)};
  tw_thread_push(self, &ev); /* evidence only: a full ring drops it (counted), never waits */
  tw_guard_leave(t);
  TW_ERRNO_RESTORE();
}

/* No waiter (a lost-wakeup candidate) or destroyed: one load tells both. */
static inline bool signal_unusual(pthread_cond_t *c) {
  unsigned w = __atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED);
  return (w >> 3) == 0 || (w & TW_COND_DESTROYED_BIT);
}

static TW_NOINLINE void signal_checks(struct tw_tls *t, pthread_cond_t *c, uintptr_t pc,
                                      uintptr_t sp, int broadcast) {
  if (destroyed(c)) use_after_destroy(t, c, pc, sp);
  else note_no_waiter(t, c, pc, sp, broadcast);
}

/* Cost of signal and broadcast: one load of the condvar when a thread waits on it; with no waiter,
 * note_no_waiter (above): a clock read, and an event at most every 100 ms per thread and site. */
TW_HOOK int pthread_cond_signal(pthread_cond_t *c) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(signal_unusual(c)) && !TW_BYPASS(t))
    signal_checks(t, c, TW_CALLER_PC(), TW_CALLER_SP(), 0);
  tw_race_cond_signalling(c);
  return TW_REAL_FN(pthread_cond_signal)(c);
}

TW_HOOK int pthread_cond_broadcast(pthread_cond_t *c) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(signal_unusual(c)) && !TW_BYPASS(t))
    signal_checks(t, c, TW_CALLER_PC(), TW_CALLER_SP(), 1);
  tw_race_cond_signalling(c);
  return TW_REAL_FN(pthread_cond_broadcast)(c);
}

/* Cost: a load of one slot of the destroyed-condvar table. */
TW_HOOK int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) {
  int r = TW_REAL_FN(pthread_cond_init)(c, a);
  if (r == 0) tw_race_destroyed(c);
  struct grave *g = grave_of(c);
  uintptr_t dead = (uintptr_t)c;
  if (r == 0 && tw_load_relaxed(&g->cond) == dead) /* alive again (a locked write only then) */
    atomic_compare_exchange_strong(&g->cond, &dead, 0);
  return r;
}

/* How long a destroy waits for waiters that were woken to leave (glibc counts a woken waiter until it
 * confirms its wakeup, which it does before it takes the mutex again). */
#define TW_DESTROY_GRACE_NS (50ull * 1000 * 1000)

static TW_NOINLINE void destroy_checks(struct tw_tls *t, pthread_cond_t *c, uintptr_t pc,
                                       uintptr_t sp) {
  TW_ERRNO_SAVE(); /* stack walks and sleeps below may set it */
  if (destroyed(c)) {
    use_after_destroy(t, c, pc, sp);
    TW_ERRNO_RESTORE();
    return;
  }
  uint64_t deadline = tw__now_ns() + TW_DESTROY_GRACE_NS;
  tw_guard_enter(t); /* our own sleeps are not the program's (hooks/sleep.c) */
  while (waiters(c) && tw__now_ns() < deadline) {
    struct timespec ms = {0, 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  tw_guard_leave(t);
  unsigned n = waiters(c);
  if (n) tw__misuse(t, TW_MU_DESTROY_WAITED, TW_MO_COND, (uintptr_t)c, n, 0, 0, pc, sp, 0);
  TW_ERRNO_RESTORE();
}

/* Cost: a load of the condvar and three stores to the destroyed-condvar table. */
TW_HOOK int pthread_cond_destroy(pthread_cond_t *c) {
  struct tw_tls *t = tw_tls();
  bool watched = !TW_BYPASS(t);
  if (watched && (destroyed(c) || waiters(c))) destroy_checks(t, c, TW_CALLER_PC(), TW_CALLER_SP());
  if (watched) { /* remembered before the real call, which blocks while waiters remain */
    struct grave *g = grave_of(c);
    tw_store_relaxed(&g->pc, TW_CALLER_PC());
    tw_store_relaxed(&g->by, t->self ? t->self->id : 0);
    tw_store_release(&g->cond, (uintptr_t)c);
  }
  int r = TW_REAL_FN(pthread_cond_destroy)(c);
  if (r == 0) tw_race_destroyed(c);
  return r;
}

/* --- C11 cnd_* --- */

TW_HOOK int cnd_wait(cnd_t *c, mtx_t *m) {
  if (!TW_REAL_FN(cnd_wait)) return thrd_error;
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(cnd_wait)(c, m);
  return cond_wait_common((pthread_cond_t *)(void *)c, (pthread_mutex_t *)(void *)m,
                          TW_CALL_CND_WAIT, 0, NULL, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts) {
  if (!TW_REAL_FN(cnd_timedwait)) return thrd_error;
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(cnd_timedwait)(c, m, ts);
  return cond_wait_common((pthread_cond_t *)(void *)c, (pthread_mutex_t *)(void *)m,
                          TW_CALL_CND_TIMEDWAIT, 0, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int cnd_signal(cnd_t *cv) {
  if (!TW_REAL_FN(cnd_signal)) return thrd_error;
  struct tw_tls *t = tw_tls();
  pthread_cond_t *c = (pthread_cond_t *)(void *)cv;
  if (tw_unlikely(signal_unusual(c)) && !TW_BYPASS(t))
    signal_checks(t, c, TW_CALLER_PC(), TW_CALLER_SP(), 0);
  tw_race_cond_signalling(c);
  return TW_REAL_FN(cnd_signal)(cv);
}

TW_HOOK int cnd_broadcast(cnd_t *cv) {
  if (!TW_REAL_FN(cnd_broadcast)) return thrd_error;
  struct tw_tls *t = tw_tls();
  pthread_cond_t *c = (pthread_cond_t *)(void *)cv;
  if (tw_unlikely(signal_unusual(c)) && !TW_BYPASS(t))
    signal_checks(t, c, TW_CALLER_PC(), TW_CALLER_SP(), 1);
  tw_race_cond_signalling(c);
  return TW_REAL_FN(cnd_broadcast)(cv);
}

TW_HOOK int cnd_init(cnd_t *cv) {
  if (!TW_REAL_FN(cnd_init)) return thrd_error;
  int r = TW_REAL_FN(cnd_init)(cv);
  if (r != thrd_success) return r;
  tw_race_destroyed(cv);
  struct grave *g = grave_of((pthread_cond_t *)(void *)cv);
  uintptr_t dead = (uintptr_t)cv;
  if (tw_load_relaxed(&g->cond) == dead) atomic_compare_exchange_strong(&g->cond, &dead, 0);
  return r;
}

TW_HOOK void cnd_destroy(cnd_t *cv) {
  if (!TW_REAL_FN(cnd_destroy)) return;
  struct tw_tls *t = tw_tls();
  pthread_cond_t *c = (pthread_cond_t *)(void *)cv;
  bool watched = !TW_BYPASS(t);
  if (watched && (destroyed(c) || waiters(c))) destroy_checks(t, c, TW_CALLER_PC(), TW_CALLER_SP());
  if (watched) {
    struct grave *g = grave_of(c);
    tw_store_relaxed(&g->pc, TW_CALLER_PC());
    tw_store_relaxed(&g->by, t->self ? t->self->id : 0);
    tw_store_release(&g->cond, (uintptr_t)c);
  }
  TW_REAL_FN(cnd_destroy)(cv);
  tw_race_destroyed(cv);
}
