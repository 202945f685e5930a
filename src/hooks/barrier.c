/* Hooks for pthread_barrier_*: waits with their object (all-asleep when the missing arrivals can
 * never come, stalls), and the misuses Helgrind's bar_bad test checks: a count of 0, init twice,
 * re-init or destroy while threads wait, wait or destroy on an uninitialised or destroyed barrier.
 * Each misuse is reported before the real call (glibc's destroy with waiters blocks, its destroy of
 * a zero-filled barrier divides by zero). */
#include <errno.h>
#include <pthread.h>

#include "hooks/hooks.h"
#include "runtime/stackdepot.h"

/* glibc's barrier on x86-64 (nptl/pthreadP.h, struct pthread_barrier): arrivals so far (`in`), the
 * arrival that completed the last round (`current_round`), the count, `shared` (0, or
 * FUTEX_SHARED = 128 when process-shared), the leavers (`out`). glibc never touches bytes 20 to 31
 * of the 32-byte pthread_barrier_t: threadwatch keeps there whether this barrier was initialised
 * or destroyed (a magic word mixed with the address) and where. */
struct tw_barrier { /* plain types, read and written with __atomic builtins, as glibc does */
  unsigned in, current_round;
  unsigned count;
  int shared;
  unsigned out;
  uint32_t mark;
  uintptr_t at;
};
_Static_assert(sizeof(struct tw_barrier) == sizeof(pthread_barrier_t), "32 bytes on x86-64");

#define TW_BARRIER_LIVE 0xba221e17u
#define TW_BARRIER_DEAD 0xba22dead
#define TW_FUTEX_SHARED 128

static inline struct tw_barrier *B(pthread_barrier_t *b) { return (struct tw_barrier *)(void *)b; }
static inline uint32_t mark_of(pthread_barrier_t *b, uint32_t magic) {
  return magic ^ (uint32_t)((uintptr_t)b >> 3);
}
static inline uint32_t mark(pthread_barrier_t *b) {
  return __atomic_load_n(&B(b)->mark, __ATOMIC_RELAXED);
}
/* Threads blocked in the current round (the round is complete when it reaches the count). */
static inline unsigned waiting(pthread_barrier_t *b) {
  unsigned in = __atomic_load_n(&B(b)->in, __ATOMIC_RELAXED);
  unsigned cr = __atomic_load_n(&B(b)->current_round, __ATOMIC_RELAXED);
  return in > cr ? in - cr : 0;
}
/* Not initialised through a hook of ours, yet a valid process-shared barrier: made by another
 * process in shared memory (its own hooks, if any, keep their marks there). */
static inline bool foreign_shared(pthread_barrier_t *b) {
  return B(b)->shared == TW_FUTEX_SHARED && B(b)->count != 0;
}

/* --- misuse checks (misuse.h) --- */

/* The earlier event kept in the mark: where the barrier was initialised or destroyed. */
static uint32_t mark_stack(struct tw_tls *t, pthread_barrier_t *b) {
  uintptr_t at = __atomic_load_n(&B(b)->at, __ATOMIC_RELAXED);
  if (!at) return 0;
  tw_guard_enter(t);
  uint32_t id = tw_depot_put(&at, 1);
  tw_guard_leave(t);
  return id;
}

/* A wait or destroy of a barrier that is not live: destroyed, or never initialised. Returns true
 * when a misuse was found. */
static TW_NOINLINE bool check_live(struct tw_tls *t, pthread_barrier_t *b, uintptr_t pc,
                                   uintptr_t sp) {
  TW_ERRNO_SAVE();
  bool bad = true;
  if (mark(b) == mark_of(b, TW_BARRIER_DEAD))
    tw__misuse(t, TW_MU_USE_AFTER_DESTROY, TW_MO_BARRIER, (uintptr_t)b, 0, mark_stack(t, b), 0,
               pc, sp, 0);
  else if (!foreign_shared(b))
    tw__misuse(t, TW_MU_USE_UNINITIALISED, TW_MO_BARRIER, (uintptr_t)b, 0, 0, 0, pc, sp, 0);
  else
    bad = false;
  TW_ERRNO_RESTORE();
  return bad;
}

static TW_NOINLINE void init_checks(struct tw_tls *t, pthread_barrier_t *b, unsigned count,
                                    uintptr_t pc, uintptr_t sp) {
  TW_ERRNO_SAVE();
  if (count == 0) {
    tw__misuse(t, TW_MU_BARRIER_ZERO_COUNT, TW_MO_BARRIER, (uintptr_t)b, 0, 0, 0, pc, sp, 0);
  } else if (mark(b) == mark_of(b, TW_BARRIER_LIVE)) {
    unsigned n = waiting(b);
    if (n) tw__misuse(t, TW_MU_REINIT_WAITED, TW_MO_BARRIER, (uintptr_t)b, n, 0, 0, pc, sp, 0);
    else tw__misuse(t, TW_MU_BARRIER_REINIT, TW_MO_BARRIER, (uintptr_t)b, 0, mark_stack(t, b), 0,
                    pc, sp, 0);
  }
  TW_ERRNO_RESTORE();
}

/* --- the hooks --- */

TW_HOOK int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a,
                                 unsigned int count) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_barrier_init)(b, a, count);
  if (count == 0 || mark(b) == mark_of(b, TW_BARRIER_LIVE))
    init_checks(t, b, count, TW_CALLER_PC(), TW_CALLER_SP());
  int r = TW_REAL_FN(pthread_barrier_init)(b, a, count);
  if (r == 0) {
    __atomic_store_n(&B(b)->at, TW_CALLER_PC(), __ATOMIC_RELAXED);
    __atomic_store_n(&B(b)->mark, mark_of(b, TW_BARRIER_LIVE), __ATOMIC_RELEASE);
  }
  return r;
}

TW_HOOK int pthread_barrier_wait(pthread_barrier_t *b) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_barrier_wait)(b);
  if (tw_unlikely(mark(b) != mark_of(b, TW_BARRIER_LIVE))) check_live(t, b, TW_CALLER_PC(), TW_CALLER_SP());
  /* The last arrival of a round does not wait (a racing arrival only makes it wait unrecorded). */
  unsigned count = B(b)->count;
  if (count != 0 && (waiting(b) + 1) % count == 0) return TW_REAL_FN(pthread_barrier_wait)(b);
  TW_ERRNO_SAVE();
  struct tw_thread *self = tw_wait_enter(t, TW_CALL_BARRIER_WAIT, (uintptr_t)b, 0, -1);
  TW_ERRNO_RESTORE();
  int r = TW_REAL_FN(pthread_barrier_wait)(b); /* not a cancellation point */
  int e = errno;
  tw_wait_leave(t, self);
  errno = e;
  return r;
}

TW_HOOK int pthread_barrier_destroy(pthread_barrier_t *b) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_barrier_destroy)(b);
  bool live = mark(b) == mark_of(b, TW_BARRIER_LIVE);
  if (!live && check_live(t, b, TW_CALLER_PC(), TW_CALLER_SP())) {
    /* reported; the real call happens as it would */
  } else if (waiting(b)) { /* glibc's destroy then blocks until they leave */
    TW_ERRNO_SAVE();
    tw__misuse(t, TW_MU_DESTROY_WAITED, TW_MO_BARRIER, (uintptr_t)b, waiting(b), 0, 0,
               TW_CALLER_PC(), TW_CALLER_SP(), 0);
    TW_ERRNO_RESTORE();
  }
  __atomic_store_n(&B(b)->at, TW_CALLER_PC(), __ATOMIC_RELAXED);
  __atomic_store_n(&B(b)->mark, mark_of(b, TW_BARRIER_DEAD), __ATOMIC_RELEASE);
  return TW_REAL_FN(pthread_barrier_destroy)(b);
}
