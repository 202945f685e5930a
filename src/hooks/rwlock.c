/* Hooks for pthread_rwlock_*: keep the held-lock stack with the mode, mark contended waits. */
#include <errno.h>
#include <pthread.h>

#include "hooks/hooks.h"
#include "race/hook.h"
#include "runtime/stackdepot.h"
#include "base/options.h"
#include "control/reporter.h"
#include "runtime/contention.h"

typedef int (*tw_try_fn)(pthread_rwlock_t *);

/* --- misuse checks (misuse.h) --- */

/* glibc leaves no mark on a destroyed rwlock, so the destroy leaves one in the padding words glibc
 * never reads (pthread_rwlock_init and the static initializer clear them): where (__pad2, non-zero
 * marks it destroyed) and who (__pad3). */
static inline bool destroyed(pthread_rwlock_t *l) {
  return __atomic_load_n(&l->__data.__pad2, __ATOMIC_RELAXED) != 0;
}

static TW_NOINLINE void use_after_destroy(struct tw_tls *t, pthread_rwlock_t *l, uintptr_t pc,
                                          uintptr_t sp) {
  TW_ERRNO_SAVE(); /* stack walks and sleeps below may set it */
  uintptr_t at = __atomic_load_n(&l->__data.__pad2, __ATOMIC_RELAXED);
  uint64_t by = __atomic_load_n(&l->__data.__pad3, __ATOMIC_RELAXED);
  tw__misuse(t, TW_MU_USE_AFTER_DESTROY, TW_MO_RWLOCK, (uintptr_t)l, 0, tw_depot_put(&at, 1), by,
             pc, sp, 0);
  TW_ERRNO_RESTORE();
}

/* Whether anyone holds it: a writer (glibc's __cur_writer) or readers (__readers >> 3). */
static inline bool rw_held(pthread_rwlock_t *l) {
  return __atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED) != 0 ||
         (__atomic_load_n(&l->__data.__readers, __ATOMIC_RELAXED) >> 3) != 0;
}

static inline int clock_ok(clockid_t clk) { return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC; }

/* glibc rejects an out-of-range tv_nsec with EINVAL even when the rwlock is free (unlike mutexes):
 * such calls go straight to the real function, so the trylock shortcut cannot take the lock. */
static inline int ts_ok(const struct timespec *ts) {
  return ts == NULL || (ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L);
}

/* The real blocking acquisition named by `call`. */
static int rw_real(pthread_rwlock_t *l, enum tw_call call, clockid_t clk, const struct timespec *ts) {
  switch (call) {
    case TW_CALL_RWLOCK_RDLOCK: return TW_REAL_FN(pthread_rwlock_rdlock)(l);
    case TW_CALL_RWLOCK_TIMEDRDLOCK: return TW_REAL_FN(pthread_rwlock_timedrdlock)(l, ts);
    case TW_CALL_RWLOCK_CLOCKRDLOCK: return TW_REAL_FN(pthread_rwlock_clockrdlock)(l, clk, ts);
    case TW_CALL_RWLOCK_WRLOCK: return TW_REAL_FN(pthread_rwlock_wrlock)(l);
    case TW_CALL_RWLOCK_TIMEDWRLOCK: return TW_REAL_FN(pthread_rwlock_timedwrlock)(l, ts);
    default: return TW_REAL_FN(pthread_rwlock_clockwrlock)(l, clk, ts);
  }
}

/* The slow path of every blocking acquisition: mark the wait, make the real call. */
static TW_NOINLINE int rw_contended(struct tw_tls *t, pthread_rwlock_t *l, enum tw_call call,
                                    clockid_t clk, const struct timespec *ts) {
  TW_ERRNO_SAVE();
  struct tw_thread *self;
  /* Write-locking an rwlock one holds for reading blocks forever (glibc returns EDEADLK only when
   * one holds it for writing). */
  const struct tw_held *h =
      call == TW_CALL_RWLOCK_WRLOCK ? tw_held_find(t, (uintptr_t)l, TW_HELD_READ) : NULL;
  if (h) { /* a self-relock: reported before blocking, with where the read hold was taken */
    tw_guard_enter(t);
    uint32_t first = tw_stack_capture_earlier(h->pc, h->sp);
    tw_guard_leave(t);
    self = tw_wait_enter_aux(t, call, (uintptr_t)l, 0, -1, first);
    tw_guard_enter(t);
    tw_reporter_await();
    tw_guard_leave(t);
  } else {
    self = tw_wait_enter(t, call, (uintptr_t)l, 0, -1);
  }
  TW_ERRNO_RESTORE();
  int r = rw_real(l, call, clk, ts);
  tw_wait_leave(t, self);
  return r;
}

/* Shared body of the six blocking acquisitions: trylock first (same result when the lock is free),
 * the slow path only when it must wait. */
static inline int rw_acquire(pthread_rwlock_t *l, enum tw_call call, uint32_t mode, clockid_t clk,
                             const struct timespec *ts, uintptr_t pc, uintptr_t sp) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return rw_real(l, call, clk, ts);
  if (tw_unlikely(!ts_ok(ts))) {
    int r = rw_real(l, call, clk, ts);
    tw__call_result(t, call, TW_MO_RWLOCK, (uintptr_t)l, r, ts, pc, sp);
    return r;
  }
  if (tw_unlikely(destroyed(l))) {
    use_after_destroy(t, l, pc, sp);
    return rw_real(l, call, clk, ts);
  }
  tw_try_fn try_fn = mode == TW_HELD_READ ? TW_REAL_FN(pthread_rwlock_tryrdlock)
                                          : TW_REAL_FN(pthread_rwlock_trywrlock);
  int r = try_fn(l);
  if (r == 0 || r == EBUSY) tw_hook_lockorder(t, (uintptr_t)l, mode, pc, sp);
  if (tw_unlikely(r == EBUSY)) r = rw_contended(t, l, call, clk, ts);
  if (tw_unlikely(!tw_result_expected(r))) tw__call_result(t, call, TW_MO_RWLOCK, (uintptr_t)l, r, ts, pc, sp);
  if (r == 0) tw_held_push(t, (uintptr_t)l, pc, sp, mode);
  if (r == 0) tw_race_rwlock_locked(l, mode == TW_HELD_WRITE);
  return r;
}


/* Cost of the six blocking acquisitions: a free rwlock costs a trylock, a held-lock push and, with
 * other locks held, the lock-order probe (a thread-local table; a new edge: one event and, once
 * per call path, a stack walk). A contended one adds the wait state (a dozen stores, a clock read;
 * no stack walk) around the real call. */
TW_HOOK int pthread_rwlock_rdlock(pthread_rwlock_t *l) {
  return rw_acquire(l, TW_CALL_RWLOCK_RDLOCK, TW_HELD_READ, 0, NULL, TW_CALLER_PC(), TW_CALLER_SP());
}
TW_HOOK int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *ts) {
  return rw_acquire(l, TW_CALL_RWLOCK_TIMEDRDLOCK, TW_HELD_READ, 0, ts, TW_CALLER_PC(), TW_CALLER_SP());
}
TW_HOOK int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t clk, const struct timespec *ts) {
  if (!TW_REAL_FN(pthread_rwlock_clockrdlock)) return ENOSYS;
  if (!clock_ok(clk)) return TW_REAL_FN(pthread_rwlock_clockrdlock)(l, clk, ts);
  return rw_acquire(l, TW_CALL_RWLOCK_CLOCKRDLOCK, TW_HELD_READ, clk, ts, TW_CALLER_PC(), TW_CALLER_SP());
}
TW_HOOK int pthread_rwlock_wrlock(pthread_rwlock_t *l) {
  return rw_acquire(l, TW_CALL_RWLOCK_WRLOCK, TW_HELD_WRITE, 0, NULL, TW_CALLER_PC(), TW_CALLER_SP());
}
TW_HOOK int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *ts) {
  return rw_acquire(l, TW_CALL_RWLOCK_TIMEDWRLOCK, TW_HELD_WRITE, 0, ts, TW_CALLER_PC(), TW_CALLER_SP());
}
TW_HOOK int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t clk, const struct timespec *ts) {
  if (!TW_REAL_FN(pthread_rwlock_clockwrlock)) return ENOSYS;
  if (!clock_ok(clk)) return TW_REAL_FN(pthread_rwlock_clockwrlock)(l, clk, ts);
  return rw_acquire(l, TW_CALL_RWLOCK_CLOCKWRLOCK, TW_HELD_WRITE, clk, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

/* Cost of the trylocks: a load of the rwlock (destroyed?) and, when taken, a held-lock push. */
TW_HOOK int pthread_rwlock_tryrdlock(pthread_rwlock_t *l) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(destroyed(l)) && !TW_BYPASS(t)) use_after_destroy(t, l, TW_CALLER_PC(), TW_CALLER_SP());
  int r = TW_REAL_FN(pthread_rwlock_tryrdlock)(l);
  if (!TW_BYPASS(t) && r == 0)
    tw_held_push(t, (uintptr_t)l, TW_CALLER_PC(), TW_CALLER_SP(), TW_HELD_READ);
  if (r == 0) tw_race_rwlock_locked(l, 0);
  return r;
}

TW_HOOK int pthread_rwlock_trywrlock(pthread_rwlock_t *l) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(destroyed(l)) && !TW_BYPASS(t)) use_after_destroy(t, l, TW_CALLER_PC(), TW_CALLER_SP());
  int r = TW_REAL_FN(pthread_rwlock_trywrlock)(l);
  if (!TW_BYPASS(t) && r == 0) {
    tw_held_push(t, (uintptr_t)l, TW_CALLER_PC(), TW_CALLER_SP(), TW_HELD_WRITE);
    tw_held_mark_trylock(t, (uintptr_t)l);
  }
  if (r == 0) tw_race_rwlock_locked(l, 1);
  return r;
}

static TW_NOINLINE void unlock_checks(struct tw_tls *t, pthread_rwlock_t *l, uintptr_t pc,
                                      uintptr_t sp) {
  if (destroyed(l)) use_after_destroy(t, l, pc, sp);
  else tw__misuse(t, TW_MU_RWLOCK_UNLOCK_NOT_HELD, TW_MO_RWLOCK, (uintptr_t)l, 0, 0, 0, pc, sp, 0);
}

/* Cost: a held-lock pop (the top entry in the common case) and a load of the rwlock. */
TW_HOOK int pthread_rwlock_unlock(pthread_rwlock_t *l) {
  struct tw_tls *t = tw_tls();
  if (!TW_BYPASS(t) && (tw_unlikely(destroyed(l)) || !tw_held_find(t, (uintptr_t)l, -1)))
    unlock_checks(t, l, TW_CALLER_PC(), TW_CALLER_SP());
  tw_race_rwlock_unlocking(l);
  /* THREADWATCH_PROFILE=mutex: the rwlock word does not say simply whether anyone waits, so an
   * unlock looks for a registered waiter of its lock (hooks/profile.c). */
  uint64_t delay = 0;
  if (tw_unlikely(tw_profile_on() & TW_PROF_MUTEX) && !TW_BYPASS(t) &&
      tw_lockwait_maybe((uintptr_t)l))
    delay = tw_lockwait_charge((uintptr_t)l, 0);
  int r = TW_REAL_FN(pthread_rwlock_unlock)(l);
  if (tw_likely(r == 0 && !TW_BYPASS(t))) tw_held_pop_fast(t, (uintptr_t)l);
  if (tw_unlikely(delay)) tw__profile_unlocked(t, TW_WC_RWLOCK, (uintptr_t)l, delay, TW_CALLER_PC(),
                                         TW_CALLER_SP());
  return r;
}

/* Cost of init and destroy: one bit of a Bloom filter unless the lock ever ordered anything (then
 * an event retires its graph node). */
TW_HOOK int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *a) {
  int r = TW_REAL_FN(pthread_rwlock_init)(l, a);
  if (r == 0) {
    tw_race_destroyed(l);
    tw_hook_lockorder_reset((uintptr_t)l);
    if (tw_unlikely(tw__opt.lock_classes)) tw_hook_lock_init_site((uintptr_t)l, TW_CALLER_PC());
  }
  return r;
}

static TW_NOINLINE void destroy_checks(struct tw_tls *t, pthread_rwlock_t *l, uintptr_t pc,
                                       uintptr_t sp) {
  if (destroyed(l)) use_after_destroy(t, l, pc, sp); /* both keep errno */
  else tw__misuse_destroy_locked(t, TW_MO_RWLOCK, (uintptr_t)l,
                                 __atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED), pc, sp);
}

TW_HOOK int pthread_rwlock_destroy(pthread_rwlock_t *l) {
  struct tw_tls *t = tw_tls();
  bool watched = !TW_BYPASS(t);
  if (watched && (destroyed(l) || rw_held(l))) destroy_checks(t, l, TW_CALLER_PC(), TW_CALLER_SP());
  int r = TW_REAL_FN(pthread_rwlock_destroy)(l);
  if (r == 0) {
    if (watched && tw_held_find(t, (uintptr_t)l, -1)) tw_held_pop(t, (uintptr_t)l); /* gone */
    tw_race_destroyed(l);
    tw_hook_lockorder_reset((uintptr_t)l);
    if (watched) {
      __atomic_store_n(&l->__data.__pad2, TW_CALLER_PC(), __ATOMIC_RELAXED);
      __atomic_store_n(&l->__data.__pad3, (unsigned)(t->self ? t->self->id : 0), __ATOMIC_RELAXED);
    }
  }
  return r;
}
