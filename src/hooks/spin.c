/* Hooks for pthread_spin_*: spinlocks are locks like mutexes (held-lock stack, lock order, the
 * wait-for graph, misuse), and a spin is a busy loop: a lock that is seen taken publishes its wait
 * state before spinning, so a relock by the holder is reported before it spins forever.
 *
 * Hot path (a free spinlock, no other lock held): TLS load, guard test, one load of the lock word,
 * the real lock, a held-lock push; unlock: a compare with the top entry, the loads of the race and
 * profile switches, a pop, the real unlock. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "control/reporter.h"
#include "hooks/hooks.h"
#include "runtime/contention.h"
#include "race/hook.h"
#include "runtime/stackdepot.h"

/* glibc's x86-64 spinlock (sysdeps/x86_64/nptl/pthread_spin_lock.S): 1 is free; a lock decrements
 * it and, when that did not give 0, spins until the word is positive again; unlock stores 1. A word
 * of 0 or less is taken. */
static inline bool looks_free(pthread_spinlock_t *s) {
  return __atomic_load_n(s, __ATOMIC_RELAXED) > 0;
}

/* --- misuse checks (misuse.h) ---
 *
 * glibc's pthread_spin_destroy does nothing, and the lock is a single word the program owns: where
 * spinlocks were destroyed is kept in a small table (best effort, like the condvar graves: a
 * collision loses the place, and only a destroyed lock's later use is then missed). Until a first
 * destroy, the table costs one load of `graves_used`. */
#define TW_SPIN_GRAVES 256u
static struct grave {
  _Atomic uintptr_t lock;
  _Atomic uintptr_t pc;
  _Atomic uint64_t by;
} graves[TW_SPIN_GRAVES];
static _Atomic uint32_t graves_used;

static inline struct grave *grave_of(pthread_spinlock_t *s) {
  return &graves[((uintptr_t)s * 0x9E3779B97F4A7C15ull >> 40) & (TW_SPIN_GRAVES - 1)];
}
static inline bool destroyed(pthread_spinlock_t *s) {
  return tw_unlikely(tw_load_relaxed(&graves_used) != 0) &&
         tw_load_acquire(&grave_of(s)->lock) == (uintptr_t)s;
}

static TW_NOINLINE void use_after_destroy(struct tw_tls *t, pthread_spinlock_t *s, uintptr_t pc,
                                          uintptr_t sp) {
  TW_ERRNO_SAVE(); /* stack walks below may set it */
  struct grave *g = grave_of(s);
  uintptr_t at = tw_load_relaxed(&g->pc);
  uint64_t by = tw_load_relaxed(&g->by);
  tw_guard_enter(t);
  uint32_t prev = at ? tw_depot_put(&at, 1) : 0;
  tw_guard_leave(t);
  tw__misuse(t, TW_MU_USE_AFTER_DESTROY, TW_MO_SPIN, (uintptr_t)s, 0, prev, prev ? by : 0, pc, sp,
             0);
  TW_ERRNO_RESTORE();
}

/* An unlock of a spinlock this thread does not hold: nobody holds it, or another thread does (a
 * spinlock has no owner word: who it is stays unknown). */
static TW_NOINLINE void unlock_not_held(struct tw_tls *t, pthread_spinlock_t *s, uintptr_t pc,
                                        uintptr_t sp) {
  if (looks_free(s)) tw__misuse(t, TW_MU_UNLOCK_UNLOCKED, TW_MO_SPIN, (uintptr_t)s, 0, 0, 0, pc, sp, 0);
  else tw__misuse(t, TW_MU_UNLOCK_NOT_OWNER, TW_MO_SPIN, (uintptr_t)s, 0, 0, 0, pc, sp, 0);
}

/* --- lock and unlock --- */

/* The lock is taken: publish the wait (with the stack where this thread took it first when it
 * holds it itself, and wait for that report: the real call then spins forever), then spin. */
static TW_NOINLINE int lock_contended(struct tw_tls *t, pthread_spinlock_t *s) {
  TW_ERRNO_SAVE();
  struct tw_thread *self;
  const struct tw_held *h = t->self ? tw_held_find(t, (uintptr_t)s, TW_HELD_SPIN) : NULL;
  if (h) {
    tw_guard_enter(t);
    uint32_t first = tw_stack_capture_earlier(h->pc, h->sp);
    tw_guard_leave(t);
    self = tw_wait_enter_aux(t, TW_CALL_SPIN_LOCK, (uintptr_t)s, 0, -1, first);
    tw_guard_enter(t);
    tw_reporter_await();
    tw_guard_leave(t);
  } else {
    self = tw_wait_enter(t, TW_CALL_SPIN_LOCK, (uintptr_t)s, 0, -1);
  }
  TW_ERRNO_RESTORE();
  int r = TW_REAL_FN(pthread_spin_lock)(s);
  tw_wait_leave(t, self);
  return r;
}

static TW_NOINLINE int lock_slow(struct tw_tls *t, pthread_spinlock_t *s, uintptr_t pc,
                                 uintptr_t sp) {
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_spin_lock)(s);
  if (destroyed(s)) use_after_destroy(t, s, pc, sp);
  tw_hook_lockorder(t, (uintptr_t)s, TW_HELD_SPIN, pc, sp);
  int r = looks_free(s) ? TW_REAL_FN(pthread_spin_lock)(s) : lock_contended(t, s);
  tw_held_push(t, (uintptr_t)s, pc, sp, TW_HELD_SPIN);
  tw_race_mutex_locked((const void *)(uintptr_t)s); /* the same happens-before as a mutex */
  return r;
}

TW_HOOK int pthread_spin_lock(pthread_spinlock_t *s) {
  struct tw_tls *t = tw_tls();
  uint32_t n = t->nheld;
  int (*real)(pthread_spinlock_t *) = tw__real_pthread_spin_lock; /* NULL until resolved */
  /* Fast path: a free spinlock taken with no other lock held (no edge to check), nothing watched
   * and nothing destroyed. The entry is pushed first, so the real call is a tail call. */
  if (tw_likely(real != NULL && n == 0 && !TW_BYPASS(t) && t->cap != 0 && looks_free(s) &&
                !tw_race_active() && tw_load_relaxed(&graves_used) == 0)) {
    t->held[0] = (struct tw_held){.lock = (uintptr_t)s, .pc = TW_CALLER_PC(),
                                  .sp = (uintptr_t)__builtin_dwarf_cfa(),
                                  .sig = tw_held_hash((uintptr_t)s, TW_HELD_SPIN),
                                  .mode = TW_HELD_SPIN, .count = 1,
                                  .since = tw_load_relaxed(&tw__coarse_tick)};
    t->nheld = 1;
    return real(s); /* always 0 */
  }
  return lock_slow(t, s, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int pthread_spin_trylock(pthread_spinlock_t *s) {
  struct tw_tls *t = tw_tls();
  if (destroyed(s) && !TW_BYPASS(t)) use_after_destroy(t, s, TW_CALLER_PC(), TW_CALLER_SP());
  int r = TW_REAL_FN(pthread_spin_trylock)(s);
  /* A trylock cannot block: held from now on, but no edge leads into it. */
  if (r == 0 && !TW_BYPASS(t))
    tw_held_push(t, (uintptr_t)s, TW_CALLER_PC(), TW_CALLER_SP(), TW_HELD_SPIN);
  if (r == 0) tw_race_mutex_locked((const void *)(uintptr_t)s);
  return r;
}

/* THREADWATCH_PROFILE=mutex: a spinlock has no waiter bit, so an unlock looks for a registered
 * waiter of its lock (hooks/profile.c; one load until any lock was ever waited for) and takes the
 * slow path when there may be one. With the profile off: one load of a global and a predictable
 * branch. */
static inline bool unlock_profiled(pthread_spinlock_t *s) {
  return tw_unlikely(tw_profile_on() & TW_PROF_MUTEX) && tw_lockwait_maybe((uintptr_t)s);
}

static TW_NOINLINE int unlock_slow(struct tw_tls *t, pthread_spinlock_t *s, uintptr_t pc,
                                   uintptr_t sp) {
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_spin_unlock)(s);
  bool held = tw_held_find(t, (uintptr_t)s, TW_HELD_SPIN) != NULL;
  if (destroyed(s)) use_after_destroy(t, s, pc, sp);
  else if (!held) unlock_not_held(t, s, pc, sp);
  tw_race_mutex_unlocking((const void *)(uintptr_t)s);
  uint64_t delay = unlock_profiled(s) ? tw_lockwait_charge((uintptr_t)s, 0) : 0;
  int r = TW_REAL_FN(pthread_spin_unlock)(s);
  if (held) tw_held_pop(t, (uintptr_t)s);
  if (tw_unlikely(delay)) tw__profile_unlocked(t, TW_WC_SPIN, (uintptr_t)s, delay, pc, sp);
  return r;
}

TW_HOOK int pthread_spin_unlock(pthread_spinlock_t *s) {
  struct tw_tls *t = tw_tls();
  uint32_t n = t->nheld;
  int (*real)(pthread_spinlock_t *) = tw__real_pthread_spin_unlock;
  if (tw_likely(real != NULL && n != 0 && t->held[n - 1].lock == (uintptr_t)s &&
                t->held[n - 1].count == 1 && !TW_BYPASS(t) && !tw_race_active() &&
                tw_load_relaxed(&graves_used) == 0 && !unlock_profiled(s))) {
    t->nheld = n - 1;
    return real(s);
  }
  return unlock_slow(t, s, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int pthread_spin_init(pthread_spinlock_t *s, int pshared) {
  int r = TW_REAL_FN(pthread_spin_init)(s, pshared);
  if (r != 0) return r;
  struct grave *g = grave_of(s);
  uintptr_t dead = (uintptr_t)s;
  if (tw_load_relaxed(&g->lock) == dead) /* alive again */
    atomic_compare_exchange_strong(&g->lock, &dead, 0);
  tw_race_destroyed((const void *)(uintptr_t)s);
  tw_hook_lockorder_reset((uintptr_t)s);
  return r;
}

TW_HOOK int pthread_spin_destroy(pthread_spinlock_t *s) {
  struct tw_tls *t = tw_tls();
  if (!TW_BYPASS(t)) {
    if (destroyed(s)) use_after_destroy(t, s, TW_CALLER_PC(), TW_CALLER_SP());
    else if (!looks_free(s))
      tw__misuse_destroy_locked(t, TW_MO_SPIN, (uintptr_t)s, 0, TW_CALLER_PC(), TW_CALLER_SP());
    struct grave *g = grave_of(s);
    tw_store_relaxed(&g->pc, TW_CALLER_PC());
    tw_store_relaxed(&g->by, t->self ? t->self->id : 0);
    tw_store_release(&g->lock, (uintptr_t)s);
    if (!tw_load_relaxed(&graves_used)) tw_store_relaxed(&graves_used, 1);
  }
  int r = TW_REAL_FN(pthread_spin_destroy)(s);
  /* A destroyed lock is held no more (destroy-locked was the report), whatever its word says. */
  if (r == 0 && !TW_BYPASS(t) && tw_held_find(t, (uintptr_t)s, TW_HELD_SPIN))
    tw_held_pop(t, (uintptr_t)s);
  tw_race_destroyed((const void *)(uintptr_t)s);
  tw_hook_lockorder_reset((uintptr_t)s);
  return r;
}
