/* Hooks for pthread_mutex_*: keep the held-lock stack, mark contended waits. */
#include <errno.h>
#include <pthread.h>

#include "hooks.h"

/* Hot path (uncontended lock): TLS load, guard test, the real trylock, a held-lock push.
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

TW_HOOK int pthread_mutex_lock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_mutex_lock)(m);
  /* trylock first: same result when free or recursive, and only a lock that really must wait takes
   * the slow path. An errorcheck relock gets EBUSY here, then EDEADLK from the real lock. */
  int r = TW_REAL_FN(pthread_mutex_trylock)(m);
  if (tw_unlikely(r == EBUSY)) r = lock_contended(t, m, TW_CALL_MUTEX_LOCK, 0, NULL);
  if (acquired(r)) tw_held_push(t, (uintptr_t)m, TW_CALLER_PC(), TW_HELD_MUTEX);
  return r;
}

TW_HOOK int pthread_mutex_trylock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  int r = TW_REAL_FN(pthread_mutex_trylock)(m);
  if (!TW_BYPASS(t) && acquired(r)) tw_held_push(t, (uintptr_t)m, TW_CALLER_PC(), TW_HELD_MUTEX);
  return r;
}

TW_HOOK int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_mutex_timedlock)(m, ts);
  int r = TW_REAL_FN(pthread_mutex_trylock)(m);
  if (r == EBUSY) r = lock_contended(t, m, TW_CALL_MUTEX_TIMEDLOCK, 0, ts);
  if (acquired(r)) tw_held_push(t, (uintptr_t)m, TW_CALLER_PC(), TW_HELD_MUTEX);
  return r;
}

TW_HOOK int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (!TW_REAL_FN(pthread_mutex_clocklock)) return ENOSYS;
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_mutex_clocklock)(m, clk, ts);
  /* glibc rejects a clock it cannot wait on before looking at the mutex: keep that order. */
  if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
    return TW_REAL_FN(pthread_mutex_clocklock)(m, clk, ts);
  int r = TW_REAL_FN(pthread_mutex_trylock)(m);
  if (r == EBUSY) r = lock_contended(t, m, TW_CALL_MUTEX_CLOCKLOCK, clk, ts);
  if (acquired(r)) tw_held_push(t, (uintptr_t)m, TW_CALLER_PC(), TW_HELD_MUTEX);
  return r;
}

TW_HOOK int pthread_mutex_unlock(pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  int r = TW_REAL_FN(pthread_mutex_unlock)(m);
  if (!TW_BYPASS(t) && r == 0) tw_held_pop(t, (uintptr_t)m);
  return r;
}

TW_HOOK int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) {
  return TW_REAL_FN(pthread_mutex_init)(m, a);
}

TW_HOOK int pthread_mutex_destroy(pthread_mutex_t *m) {
  return TW_REAL_FN(pthread_mutex_destroy)(m);
}
