/* Hooks for pthread_mutex_*: keep the held-lock stack, mark contended waits. */
#include <errno.h>
#include <pthread.h>

#include "hooks.h"

/* Hot path (uncontended lock, every lock-order edge already known): TLS load, guard test, the real
 * trylock, one compare and one edge-cache probe per lock already held, a held-lock push.
 * No allocation, no unwinding, no shared write, no syscall. */

static TW_NOINLINE int lock_contended(struct tw_tls *t, pthread_mutex_t *m, enum tw_call call,
                                      clockid_t clk, const struct timespec *ts) {
  TW_ERRNO_SAVE();
  struct tw_thread *self = tw_wait_enter(t, call, (uintptr_t)m, 0, -1);
  TW_ERRNO_RESTORE();
  int r;
  switch (call) {
    case TW_CALL_MUTEX_TIMEDLOCK: r = TW_REAL_FN(pthread_mutex_timedlock)(m, ts); break;
    case TW_CALL_MUTEX_CLOCKLOCK: r = TW_REAL_FN(pthread_mutex_clocklock)(m, clk, ts); break;
    default: r = TW_REAL_FN(pthread_mutex_lock)(m); break;
  }
  tw_wait_leave(t, self);
  return r;
}

static inline int acquired(int r) { return r == 0 || r == EOWNERDEAD; }

/* A robust mutex whose owner died and that was not made consistent: glibc's trylock then returns
 * ENOTRECOVERABLE but leaves the lock word set, which only the real lock path clears. Robust
 * mutexes therefore never take the trylock shortcut (glibc's __kind bit 0x10, see pthread_mutex_lock.c). */
static inline int is_robust(const pthread_mutex_t *m) { return (m->__data.__kind & 0x10) != 0; }

/* Shared body of lock, timedlock and clocklock: trylock first (same result when the mutex is free
 * or recursive; an errorcheck relock gets EBUSY here, then EDEADLK from the real lock), lock-order
 * check before anything can block, the slow path only when the mutex must be waited for. */
static inline int mutex_acquire(struct tw_tls *t, pthread_mutex_t *m, enum tw_call call,
                                clockid_t clk, const struct timespec *ts, uintptr_t pc,
                                uintptr_t sp) {
  int r = tw_unlikely(is_robust(m)) ? EBUSY : TW_REAL_FN(pthread_mutex_trylock)(m);
  if (acquired(r) || r == EBUSY) tw_lockorder_acquire(t, (uintptr_t)m, TW_HELD_MUTEX, pc, sp);
  if (tw_unlikely(r == EBUSY)) r = lock_contended(t, m, call, clk, ts);
  if (acquired(r)) tw_held_push(t, (uintptr_t)m, pc, sp, TW_HELD_MUTEX);
  return r;
}

TW_HOOK int pthread_mutex_lock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_mutex_lock)(m);
  return mutex_acquire(t, m, TW_CALL_MUTEX_LOCK, 0, NULL, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int pthread_mutex_trylock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  int r = TW_REAL_FN(pthread_mutex_trylock)(m);
  /* A trylock cannot block: the mutex is held from now on, but no edge leads into it. */
  if (!TW_BYPASS(t) && acquired(r))
    tw_held_push(t, (uintptr_t)m, TW_CALLER_PC(), TW_CALLER_SP(), TW_HELD_MUTEX);
  return r;
}

TW_HOOK int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_mutex_timedlock)(m, ts);
  return mutex_acquire(t, m, TW_CALL_MUTEX_TIMEDLOCK, 0, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (!TW_REAL_FN(pthread_mutex_clocklock)) return ENOSYS;
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_mutex_clocklock)(m, clk, ts);
  /* glibc rejects a clock it cannot wait on before looking at the mutex: keep that order. */
  if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
    return TW_REAL_FN(pthread_mutex_clocklock)(m, clk, ts);
  return mutex_acquire(t, m, TW_CALL_MUTEX_CLOCKLOCK, clk, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int pthread_mutex_unlock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  int r = TW_REAL_FN(pthread_mutex_unlock)(m);
  if (!TW_BYPASS(t) && r == 0) tw_held_pop(t, (uintptr_t)m);
  return r;
}

/* init and destroy retire the lock's graph node (a new lock may take the address). */
TW_HOOK int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) {
  int r = TW_REAL_FN(pthread_mutex_init)(m, a);
  if (r == 0) tw_lockorder_reset((uintptr_t)m);
  return r;
}

TW_HOOK int pthread_mutex_destroy(pthread_mutex_t *m) {
  int r = TW_REAL_FN(pthread_mutex_destroy)(m);
  if (r == 0) tw_lockorder_reset((uintptr_t)m);
  return r;
}
