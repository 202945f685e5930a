/* Hooks for pthread_mutex_* and C11's mtx_* (glibc's mtx_t is a pthread_mutex_t, locked without the
 * exported pthread functions): keep the held-lock stack, mark contended waits. */
#include <errno.h>
#include <pthread.h>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks/hooks.h"
#include "race/hook.h"
#include "runtime/ring.h"
#include "runtime/stackdepot.h"
#include "detect/waits.h"
#include "base/options.h"
#include "control/reporter.h"
#include "runtime/contention.h"

/* Hot path (uncontended lock taken with no other lock held): TLS load, guard test, one load of the
 * mutex word, the real lock, a held-lock push (five stores and a hash). With other locks held and
 * every lock-order edge already known: plus one compare with the mutex's memo (or one probe of a
 * thread-local table). The unlock: a compare with the top entry, a pop, the loads of the race and
 * profile switches, the real unlock (a tail call). No allocation, no unwinding, no shared write, no
 * syscall, no clock read. Measured (callgrind, bench_hooks lock): 144 instructions per lock/unlock
 * pair against 67 bare.
 *
 * Whether the lock will have to wait is told by peeking at the mutex word (glibc's __data.__lock,
 * part of the x86-64 ABI layout of pthread_mutex_t): 0 means free. A free mutex goes straight to the
 * real lock; a held one takes the slow path, which records the wait (with a stack) before blocking.
 * The peek races with other lockers: a mutex taken between the peek and the real lock makes this
 * thread wait without a recorded wait state, until the holder unlocks. */

/* The real blocking call named by `call`, without any wait state. */
static int mutex_real(pthread_mutex_t *m, enum tw_call call, clockid_t clk,
                      const struct timespec *ts) {
  switch (call) {
    case TW_CALL_MUTEX_TIMEDLOCK: return TW_REAL_FN(pthread_mutex_timedlock)(m, ts);
    case TW_CALL_MUTEX_CLOCKLOCK: return TW_REAL_FN(pthread_mutex_clocklock)(m, clk, ts);
    /* C11: thrd_success (0) when taken, else thrd_error/thrd_busy/thrd_timedout. */
    case TW_CALL_MTX_LOCK: return TW_REAL_FN(mtx_lock)((mtx_t *)(void *)m);
    case TW_CALL_MTX_TIMEDLOCK: return TW_REAL_FN(mtx_timedlock)((mtx_t *)(void *)m, ts);
    default: return TW_REAL_FN(pthread_mutex_lock)(m);
  }
}

/* Whether an untimed lock of m by this thread can never return: m is a normal (default or adaptive,
 * robust or not, PI or not) mutex that this thread already owns. glibc then blocks forever (an
 * error-checking mutex returns EDEADLK and a recursive one counts: neither hangs). The owner field
 * and the kind are glibc's x86-64 ABI layout of pthread_mutex_t, as gdb reads them. */
static bool relock_hangs(const struct tw_tls *t, pthread_mutex_t *m) {
  int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & 3; /* PTHREAD_MUTEX_KIND_MASK_NP */
  if (kind == PTHREAD_MUTEX_RECURSIVE_NP || kind == PTHREAD_MUTEX_ERRORCHECK_NP) return false;
  int owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
  return owner != 0 && owner == tw_load_relaxed(&t->self->tid) && tw_held_find(t, (uintptr_t)m, -1);
}

static TW_NOINLINE int lock_contended(struct tw_tls *t, pthread_mutex_t *m, enum tw_call call,
                                      clockid_t clk, const struct timespec *ts) {
  TW_ERRNO_SAVE();
  struct tw_thread *self;
  if ((call == TW_CALL_MUTEX_LOCK || call == TW_CALL_MTX_LOCK) && t->self && relock_hangs(t, m)) {
    tw_guard_enter(t);
    const struct tw_held *h = tw_held_find(t, (uintptr_t)m, -1);
    uint32_t first = tw_stack_capture_earlier(h->pc, h->sp);
    tw_guard_leave(t);
    self = tw_wait_enter_aux(t, call, (uintptr_t)m, 0, -1, first);
    tw_guard_enter(t);
    tw_reporter_await();
    tw_guard_leave(t);
  } else {
    self = tw_wait_enter(t, call, (uintptr_t)m, 0, -1);
  }
  TW_ERRNO_RESTORE();
  int r = mutex_real(m, call, clk, ts);
  tw_wait_leave(t, self);
  return r;
}

static inline int acquired(int r) { return r == 0 || r == EOWNERDEAD; }

#define TW_MUTEX_ROBUST_BIT 16 /* glibc's PTHREAD_MUTEX_ROBUST_NORMAL_NP bit of __kind */

/* A robust mutex: its owner may end holding it (the next locker gets EOWNERDEAD). */
static inline bool robust_kind(pthread_mutex_t *m) {
  return (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & TW_MUTEX_ROBUST_BIT) != 0;
}

static inline int looks_free(pthread_mutex_t *m) {
  return __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0;
}

/* glibc's mutex kinds for which a lock of a free mutex and an unlock by its owner always return 0:
 * normal (timed) and adaptive, with or without elision, process-shared or not (the kind word of
 * the x86-64 ABI layout). Not error-checking, recursive, robust, PI, PP, the "no elision" flag
 * (whose unlock checks the owner), nor a destroyed mutex (glibc sets its kind to -1). */
static inline bool plain_kind(pthread_mutex_t *m) {
  int k = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & (127 | 512);
  return k == PTHREAD_MUTEX_TIMED_NP || k == PTHREAD_MUTEX_ADAPTIVE_NP;
}

/* --- misuse checks (misuse.h) --- */

/* glibc marks a destroyed mutex with kind -1. Its robust-list words are then free (our memo is
 * void), so the destroy keeps there where it happened and who did it, for a later use. */
static inline bool destroyed(pthread_mutex_t *m) {
  return __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) == -1;
}

static TW_NOINLINE void use_after_destroy(struct tw_tls *t, pthread_mutex_t *m, uintptr_t pc,
                                          uintptr_t sp) {
  TW_ERRNO_SAVE(); /* stack walks and sleeps below may set it */
  uintptr_t at = (uintptr_t)__atomic_load_n(&m->__data.__list.__next, __ATOMIC_RELAXED);
  uint64_t by = (uintptr_t)__atomic_load_n(&m->__data.__list.__prev, __ATOMIC_RELAXED);
  uint32_t prev = at ? tw_depot_put(&at, 1) : 0;
  tw__misuse(t, TW_MU_USE_AFTER_DESTROY, TW_MO_MUTEX, (uintptr_t)m, 0, prev, prev ? by : 0, pc, sp,
             0);
  TW_ERRNO_RESTORE();
}

static void note_destroyed(struct tw_tls *t, pthread_mutex_t *m, uintptr_t pc) {
  struct tw_thread *self = t->self;
  __atomic_store_n(&m->__data.__list.__next, (struct __pthread_internal_list *)pc, __ATOMIC_RELAXED);
  __atomic_store_n(&m->__data.__list.__prev,
                   (struct __pthread_internal_list *)(uintptr_t)(self ? self->id : 0),
                   __ATOMIC_RELAXED);
}

/* An unlock of a mutex this thread does not hold: nobody holds it, or another thread does. */
static TW_NOINLINE void unlock_not_held(struct tw_tls *t, pthread_mutex_t *m, uintptr_t pc,
                                        uintptr_t sp) {
  int lockword = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
  int owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
  if (owner != 0 && t->self && owner == tw_load_relaxed(&t->self->tid)) return; /* glibc: ours */
  if (lockword == 0) tw__misuse(t, TW_MU_UNLOCK_UNLOCKED, TW_MO_MUTEX, (uintptr_t)m, 0, 0, 0, pc, sp, 0);
  else tw__misuse(t, TW_MU_UNLOCK_NOT_OWNER, TW_MO_MUTEX, (uintptr_t)m, (uint64_t)owner, 0, 0, pc, sp, 0);
}

/* The edge memo: a plain mutex remembers, in its own robust-list word (glibc touches __list only
 * for robust mutexes, and pthread_mutex_init clears it), the last held set whose edges into it were
 * all sent, mixed with its own address (a mutex copied elsewhere does not bring its memo along) and
 * the lock generation. A program that locks a million mutexes, each under its own held set, then
 * finds its known edges on the cache line the lock touches anyway, where a per-thread table of that
 * size would miss every time. A wrong memo (another generation, another held set, data the program
 * left there) is only a miss. */
static inline uintptr_t memo_of(pthread_mutex_t *m, uint64_t sig) {
  return (uintptr_t)(sig + (uintptr_t)m + tw_load_relaxed(&tw__lock_gen));
}
static inline bool memo_hit(pthread_mutex_t *m, uint64_t sig) {
  return (uintptr_t)__atomic_load_n(&m->__data.__list.__prev, __ATOMIC_RELAXED) == memo_of(m, sig);
}
static inline void memo_set(pthread_mutex_t *m, uint64_t sig) {
  __atomic_store_n(&m->__data.__list.__prev, (struct __pthread_internal_list *)memo_of(m, sig),
                   __ATOMIC_RELAXED);
}

/* Shared body of lock, timedlock and clocklock: the lock-order check before anything can block,
 * then the real call, through the slow path when the mutex is seen held. */
static inline int mutex_acquire(struct tw_tls *t, pthread_mutex_t *m, enum tw_call call,
                                clockid_t clk, const struct timespec *ts, uintptr_t pc,
                                uintptr_t sp) {
  if (tw_unlikely(destroyed(m))) {
    use_after_destroy(t, m, pc, sp);
    return mutex_real(m, call, clk, ts);
  }
  uint64_t sig = tw_held_sig(t);
  bool sent = tw_hook_lockorder(t, (uintptr_t)m, TW_HELD_MUTEX, pc, sp);
  int r = looks_free(m) ? mutex_real(m, call, clk, ts) : lock_contended(t, m, call, clk, ts);
  if (tw_unlikely(!tw_result_expected(r))) tw__call_result(t, call, TW_MO_MUTEX, (uintptr_t)m, r, ts, pc, sp);
  if (acquired(r)) {
    bool plain = plain_kind(m);
    if (sent && t->nheld && plain) memo_set(m, sig); /* set while we hold it */
    tw_held_push(t, (uintptr_t)m, pc, sp, TW_HELD_MUTEX);
    struct tw_held *top = &t->held[t->nheld - 1];
    if (plain && top->lock == (uintptr_t)m && top->count == 1) top->plain = TW_HELD_PLAIN;
    else if (robust_kind(m) && top->lock == (uintptr_t)m) top->plain |= TW_HELD_ROBUST;
    tw_race_mutex_locked(m);
  }
  return r;
}

/* Everything but the fast path of pthread_mutex_lock: tool code running, other locks held,
 * a mutex seen held. */
static TW_NOINLINE int mutex_lock_slow(struct tw_tls *t, pthread_mutex_t *m, uintptr_t pc,
                                       uintptr_t sp) {
  if (TW_BYPASS(t) || tw_pc_in_unwinder(pc)) return TW_REAL_FN(pthread_mutex_lock)(m);
  return mutex_acquire(t, m, TW_CALL_MUTEX_LOCK, 0, NULL, pc, sp);
}

TW_HOOK int pthread_mutex_lock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  /* Fast path: a free plain mutex taken with no other lock held, or with a held set whose edges
   * into it are known by the mutex's memo. Such a lock cannot fail, so the held-lock entry is
   * pushed first and the real call is a tail call: nothing is kept across it. */
  uint32_t n = t->nheld;
  int (*real)(pthread_mutex_t *) = tw__real_pthread_mutex_lock; /* NULL until resolved: slow path */
  if (tw_likely(real != NULL && !TW_BYPASS(t) && n < t->cap && looks_free(m) && plain_kind(m) &&
                !tw_race_active())) {
    uint64_t sig = n ? t->held[n - 1].sig : 0;
    if (tw_likely(n == 0) || memo_hit(m, sig)) { /* the table probe is on the slow path */
      /* The caller's stack pointer as the CFA (TW_CALLER_SP without a frame of our own). */
      t->held[n] = (struct tw_held){.lock = (uintptr_t)m, .pc = TW_CALLER_PC(),
                                    .sp = (uintptr_t)__builtin_dwarf_cfa(),
                                    .sig = sig + tw_held_hash((uintptr_t)m, TW_HELD_MUTEX),
                                    .state = TW_HELD_PLAIN_ONCE,
                                    .since = tw_load_relaxed(&tw__coarse_tick)};
      t->nheld = n + 1;
      return real(m); /* a tail call: no register is kept across it, so none is saved */
    }
  }
  return mutex_lock_slow(t, m, TW_CALLER_PC(), TW_CALLER_SP());
}

/* Cost: a load of the mutex (destroyed?) and, when taken, a held-lock push. */
TW_HOOK int pthread_mutex_trylock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(destroyed(m)) && !TW_BYPASS(t)) use_after_destroy(t, m, TW_CALLER_PC(), TW_CALLER_SP());
  int r = TW_REAL_FN(pthread_mutex_trylock)(m);
  /* A trylock cannot block: the mutex is held from now on, but no edge leads into it. */
  if (!TW_BYPASS(t) && acquired(r) && !tw_pc_in_unwinder(TW_CALLER_PC())) {
    tw_held_push(t, (uintptr_t)m, TW_CALLER_PC(), TW_CALLER_SP(), TW_HELD_MUTEX);
    struct tw_held *top = &t->held[t->nheld - 1];
    if (robust_kind(m) && top->lock == (uintptr_t)m) top->plain |= TW_HELD_ROBUST;
    tw_held_mark_trylock(t, (uintptr_t)m);
  }
  if (acquired(r)) tw_race_mutex_locked(m);
  return r;
}

/* Cost of timedlock and clocklock: as pthread_mutex_lock's slow path (the lock-order probe, a
 * held-lock push; a contended mutex adds the wait state: a dozen stores and a clock read). */
TW_HOOK int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_mutex_timedlock)(m, ts);
  return mutex_acquire(t, m, TW_CALL_MUTEX_TIMEDLOCK, 0, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (!TW_REAL_FN(pthread_mutex_clocklock)) return ENOSYS;
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_mutex_clocklock)(m, clk, ts);
  return mutex_acquire(t, m, TW_CALL_MUTEX_CLOCKLOCK, clk, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

/* THREADWATCH_PROFILE=mutex: an unlock of a mutex whose word says it has waiters (glibc's 2:
 * locked, contended) takes the slow path, which charges the waiters' time to the unlock; so does
 * one with a recorded waiter registered on it (a waiter registers before its real lock marks the
 * word). With the profile off this is one load of a global and a predictable branch; on, a load
 * of the mutex word the unlock is about to write anyway, and (once any lock was waited for) a probe
 * of the table of locks with waiters (runtime/contention.h). */
static inline bool unlock_profiled(pthread_mutex_t *m) {
  return tw_unlikely(tw_profile_on() & TW_PROF_MUTEX) &&
         (__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) > 1 || tw_lockwait_maybe((uintptr_t)m));
}

/* pthread_mutex_unlock's slow path, and every mtx_unlock (`c11`: its real call). */
static TW_NOINLINE int mutex_unlock_slow(struct tw_tls *t, pthread_mutex_t *m, uintptr_t pc,
                                         uintptr_t sp, bool c11) {
  if (TW_BYPASS(t) || tw_pc_in_unwinder(pc))
    return c11 ? TW_REAL_FN(mtx_unlock)((mtx_t *)(void *)m) : TW_REAL_FN(pthread_mutex_unlock)(m);
  if (destroyed(m)) use_after_destroy(t, m, pc, sp);
  else if (!tw_held_find(t, (uintptr_t)m, -1)) unlock_not_held(t, m, pc, sp);
  tw_race_mutex_unlocking(m);
  /* Charged before the real unlock (a waiter may take the lock right after it), recorded after (the
   * stack capture must not lengthen the critical section). */
  uint64_t delay = unlock_profiled(m) ? tw_lockwait_charge((uintptr_t)m, 0) : 0;
  int r = c11 ? TW_REAL_FN(mtx_unlock)((mtx_t *)(void *)m) : TW_REAL_FN(pthread_mutex_unlock)(m);
  if (r == 0) tw_held_pop(t, (uintptr_t)m);
  if (tw_unlikely(delay)) tw__profile_unlocked(t, TW_WC_MUTEX, (uintptr_t)m, delay, pc, sp);
  return r;
}

/* Cost: four loads and a compare, the held-lock pop, then the real call as a tail call. */
TW_HOOK int pthread_mutex_unlock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  /* Fast path: the plain mutex this thread took last, once (the lock path marked it plain): its
   * unlock cannot fail, so the entry is popped first and the real call is a tail call. Everything
   * else, race watching and a contended unlock under THREADWATCH_PROFILE=mutex included, goes
   * through the slow path (only tail calls here). */
  uint32_t n = t->nheld;
  int (*real)(pthread_mutex_t *) = tw__real_pthread_mutex_unlock;
  if (tw_likely(real != NULL && n != 0 && t->held[n - 1].lock == (uintptr_t)m &&
                t->held[n - 1].state == TW_HELD_PLAIN_ONCE && !TW_BYPASS(t) &&
                !tw_race_active() && !unlock_profiled(m))) {
    t->nheld = n - 1;
    return real(m);
  }
  return mutex_unlock_slow(t, m, TW_CALLER_PC(), TW_CALLER_SP(), false);
}

/* init and destroy retire the lock's graph node (a new lock may take the address). Cost: one bit
 * of a Bloom filter for a lock that never ordered anything; else one event. */
TW_HOOK int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) {
  int r = TW_REAL_FN(pthread_mutex_init)(m, a);
  if (r == 0) {
    tw_race_destroyed(m);
    tw_hook_lockorder_reset((uintptr_t)m);
    if (tw_unlikely(tw__opt.lock_classes)) tw_hook_lock_init_site((uintptr_t)m, TW_CALLER_PC());
  }
  return r;
}

TW_HOOK int pthread_mutex_destroy(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
  bool watched = !TW_BYPASS(t);
  if (watched && kind == -1) use_after_destroy(t, m, TW_CALLER_PC(), TW_CALLER_SP());
  else if (watched && !looks_free(m))
    tw__misuse_destroy_locked(t, TW_MO_MUTEX, (uintptr_t)m,
                              __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED), TW_CALLER_PC(),
                              TW_CALLER_SP());
  int r = TW_REAL_FN(pthread_mutex_destroy)(m);
  if (r == 0) {
    if (watched && tw_held_find(t, (uintptr_t)m, -1)) tw_held_pop(t, (uintptr_t)m); /* gone */
    tw_race_destroyed(m);
    tw_hook_lockorder_reset((uintptr_t)m);
    /* Not for a robust mutex: its list words may still link it into a thread's robust list. */
    if (watched && kind != -1 && !(kind & TW_MUTEX_ROBUST_BIT))
      note_destroyed(t, m, TW_CALLER_PC());
  }
  return r;
}

/* --- C11 mtx_* (the same checks; glibc 2.34+ runs them on its internal pthread functions) --- */

TW_HOOK int mtx_lock(mtx_t *mx) {
  if (!TW_REAL_FN(mtx_lock)) return thrd_error;
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(mtx_lock)(mx);
  return mutex_acquire(t, (pthread_mutex_t *)(void *)mx, TW_CALL_MTX_LOCK, 0, NULL,
                       TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int mtx_timedlock(mtx_t *restrict mx, const struct timespec *restrict ts) {
  if (!TW_REAL_FN(mtx_timedlock)) return thrd_error;
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(mtx_timedlock)(mx, ts);
  return mutex_acquire(t, (pthread_mutex_t *)(void *)mx, TW_CALL_MTX_TIMEDLOCK, 0, ts,
                       TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int mtx_trylock(mtx_t *mx) {
  if (!TW_REAL_FN(mtx_trylock)) return thrd_error;
  struct tw_tls *t = tw_tls();
  pthread_mutex_t *m = (pthread_mutex_t *)(void *)mx;
  if (tw_unlikely(destroyed(m)) && !TW_BYPASS(t)) use_after_destroy(t, m, TW_CALLER_PC(), TW_CALLER_SP());
  int r = TW_REAL_FN(mtx_trylock)(mx);
  if (!TW_BYPASS(t) && r == thrd_success)
    tw_held_push(t, (uintptr_t)m, TW_CALLER_PC(), TW_CALLER_SP(), TW_HELD_MUTEX);
  if (r == thrd_success) tw_race_mutex_locked(m);
  return r;
}

TW_HOOK int mtx_unlock(mtx_t *mx) {
  if (!TW_REAL_FN(mtx_unlock)) return thrd_error;
  return mutex_unlock_slow(tw_tls(), (pthread_mutex_t *)(void *)mx, TW_CALLER_PC(), TW_CALLER_SP(),
                           true);
}

TW_HOOK int mtx_init(mtx_t *mx, int type) {
  if (!TW_REAL_FN(mtx_init)) return thrd_error;
  int r = TW_REAL_FN(mtx_init)(mx, type);
  if (r == thrd_success) {
    tw_race_destroyed(mx);
    tw_hook_lockorder_reset((uintptr_t)mx);
    if (tw_unlikely(tw__opt.lock_classes)) tw_hook_lock_init_site((uintptr_t)mx, TW_CALLER_PC());
  }
  return r;
}

TW_HOOK void mtx_destroy(mtx_t *mx) {
  if (!TW_REAL_FN(mtx_destroy)) return;
  struct tw_tls *t = tw_tls();
  pthread_mutex_t *m = (pthread_mutex_t *)(void *)mx;
  int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
  bool watched = !TW_BYPASS(t);
  if (watched && kind == -1) use_after_destroy(t, m, TW_CALLER_PC(), TW_CALLER_SP());
  else if (watched && !looks_free(m))
    tw__misuse_destroy_locked(t, TW_MO_MUTEX, (uintptr_t)m,
                              __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED), TW_CALLER_PC(),
                              TW_CALLER_SP());
  bool was_free = looks_free(m);
  TW_REAL_FN(mtx_destroy)(mx);
  if (was_free) { /* glibc destroyed it (a held one is refused, silently for C11) */
    tw_race_destroyed(mx);
    tw_hook_lockorder_reset((uintptr_t)mx);
    if (watched && kind != -1 && !(kind & TW_MUTEX_ROBUST_BIT))
      note_destroyed(t, m, TW_CALLER_PC());
  }
}
