/* Hooks for POSIX semaphores: waits with their object, posts as facts (who can end a wait), and the
 * misuse checks (destroy with waiters, use after destroy). sem_post is async-signal-safe and stays
 * so: a repeated post costs a memo check in TLS and a load of the semaphore's own cache line. */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdarg.h>
#include <time.h>

#include "base/out.h"
#include "hooks/hooks.h"
#include "runtime/engine.h"
#include "runtime/names.h"
#include "runtime/stackdepot.h"

/* glibc's sem_t on x86-64 (nptl/internaltypes.h, struct new_sem): a 64-bit word whose low half is
 * the value and whose high half counts the waiters, then `private` (0, or FUTEX_SHARED = 128 for a
 * process-shared or named semaphore). Bytes 16 to 31 of the 32-byte sem_t are never touched by
 * glibc: a destroy leaves threadwatch's mark there (a magic word mixed with the address, the
 * destroying thread's id, and where), and sem_init clears it. */
struct tw_sem { /* plain types, read and written with __atomic builtins, as glibc does */
  uint64_t data;
  int private_;
  int pad;
  uint32_t mark;
  uint32_t by;
  uintptr_t at;
};
_Static_assert(sizeof(struct tw_sem) == sizeof(sem_t), "sem_t is 32 bytes on x86-64");

#define TW_SEM_DEAD 0x5e3dead5u

static inline struct tw_sem *S(sem_t *s) { return (struct tw_sem *)(void *)s; }
static inline uint32_t dead_mark(sem_t *s) { return TW_SEM_DEAD ^ (uint32_t)((uintptr_t)s >> 3); }
static inline bool destroyed(sem_t *s) {
  return __atomic_load_n(&S(s)->mark, __ATOMIC_RELAXED) == dead_mark(s);
}
static inline uint32_t value_of(sem_t *s) {
  return (uint32_t)__atomic_load_n(&S(s)->data, __ATOMIC_RELAXED);
}
static inline uint32_t waiters_of(sem_t *s) {
  return (uint32_t)(__atomic_load_n(&S(s)->data, __ATOMIC_RELAXED) >> 32);
}

/* --- misuse checks (misuse.h) --- */

static TW_NOINLINE void use_after_destroy(struct tw_tls *t, sem_t *s, uintptr_t pc, uintptr_t sp) {
  TW_ERRNO_SAVE(); /* stack walks below may set it */
  uintptr_t at = __atomic_load_n(&S(s)->at, __ATOMIC_RELAXED);
  uint64_t by = __atomic_load_n(&S(s)->by, __ATOMIC_RELAXED);
  tw_guard_enter(t);
  uint32_t prev = at ? tw_depot_put(&at, 1) : 0;
  tw_guard_leave(t);
  tw__misuse(t, TW_MU_USE_AFTER_DESTROY, TW_MO_SEM, (uintptr_t)s, 0, prev, prev ? by : 0, pc, sp,
             0);
  TW_ERRNO_RESTORE();
}

/* How long a destroy waits for waiters that were posted to leave (glibc counts a waiter until it
 * has taken its token, after it woke up). */
#define TW_SEM_DESTROY_GRACE_NS (50ull * 1000 * 1000)

static TW_NOINLINE void destroy_checks(struct tw_tls *t, sem_t *s, uintptr_t pc, uintptr_t sp) {
  TW_ERRNO_SAVE();
  if (destroyed(s)) {
    use_after_destroy(t, s, pc, sp);
  } else {
    uint64_t deadline = tw__now_ns() + TW_SEM_DESTROY_GRACE_NS;
    tw_guard_enter(t); /* our own sleeps are not the program's */
    while (waiters_of(s) && tw__now_ns() < deadline) {
      struct timespec ms = {0, 1000 * 1000};
      nanosleep(&ms, NULL);
    }
    tw_guard_leave(t);
    uint32_t n = waiters_of(s);
    if (n) tw__misuse(t, TW_MU_DESTROY_WAITED, TW_MO_SEM, (uintptr_t)s, n, 0, 0, pc, sp, 0);
  }
  TW_ERRNO_RESTORE();
}

/* --- the hooks --- */

TW_HOOK int sem_init(sem_t *s, int pshared, unsigned int value) {
  int r = TW_REAL_FN(sem_init)(s, pshared, value);
  if (r != 0) return r;
  __atomic_store_n(&S(s)->mark, 0, __ATOMIC_RELAXED);
  struct tw_tls *t = tw_tls();
  if (!TW_BYPASS(t)) tw__feed_reset(t, (uintptr_t)s);
  return r;
}

TW_HOOK int sem_destroy(sem_t *s) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(sem_destroy)(s);
  if (tw_unlikely(destroyed(s) || waiters_of(s)))
    destroy_checks(t, s, TW_CALLER_PC(), TW_CALLER_SP());
  __atomic_store_n(&S(s)->at, TW_CALLER_PC(), __ATOMIC_RELAXED);
  __atomic_store_n(&S(s)->by, (uint32_t)(t->self ? t->self->id : 0), __ATOMIC_RELAXED);
  __atomic_store_n(&S(s)->mark, dead_mark(s), __ATOMIC_RELAXED);
  tw__feed_reset(t, (uintptr_t)s);
  return TW_REAL_FN(sem_destroy)(s);
}

static TW_NOINLINE int post_slow(struct tw_tls *t, sem_t *s, uintptr_t pc, uintptr_t sp) {
  if (!TW_BYPASS(t)) {
    if (destroyed(s)) use_after_destroy(t, s, pc, sp);
    if (!tw_feed_known(t, (uintptr_t)s)) tw__feed_slow(t, (uintptr_t)s, TW_FEED_SEM);
  }
  return TW_REAL_FN(sem_post)(s);
}

TW_HOOK int sem_post(sem_t *s) {
  struct tw_tls *t = tw_tls();
  /* Fast path: this thread has posted it before (the reporter knows) and it is not destroyed. */
  if (tw_likely(tw_feed_known(t, (uintptr_t)s) && !destroyed(s) && tw__real_sem_post))
    return tw__real_sem_post(s);
  return post_slow(t, s, TW_CALLER_PC(), TW_CALLER_SP());
}

/* The real wait named by `call`. */
static int sem_real(sem_t *s, enum tw_call call, clockid_t clk, const struct timespec *ts) {
  switch (call) {
    case TW_CALL_SEM_TIMEDWAIT: return TW_REAL_FN(sem_timedwait)(s, ts);
    case TW_CALL_SEM_CLOCKWAIT: return TW_REAL_FN(sem_clockwait)(s, clk, ts);
    default: return TW_REAL_FN(sem_wait)(s);
  }
}

/* A wait that will block (the value was 0): published with its object, then the real call, a
 * cancellation point (hazard 4). */
static TW_NOINLINE int wait_slow(struct tw_tls *t, sem_t *s, enum tw_call call, clockid_t clk,
                                 const struct timespec *ts, uintptr_t pc, uintptr_t sp) {
  if (destroyed(s)) use_after_destroy(t, s, pc, sp);
  TW_ERRNO_SAVE();
  struct tw_thread *self = tw_wait_enter(t, call, (uintptr_t)s, 0, -1);
  TW_ERRNO_RESTORE();
  int r;
  pthread_cleanup_push(tw__wait_cancel_cleanup, self);
  r = sem_real(s, call, clk, ts);
  pthread_cleanup_pop(0);
  int e = errno;
  tw_wait_leave(t, self);
  errno = e;
  return r;
}

/* Whether a wait can go straight to the real call: a token is there (a racing taker only makes
 * this thread wait without a recorded wait state) and the semaphore is not destroyed. */
static inline bool wait_fast(struct tw_tls *t, sem_t *s) {
  return TW_BYPASS(t) || (value_of(s) != 0 && !destroyed(s));
}

TW_HOOK int sem_wait(sem_t *s) {
  struct tw_tls *t = tw_tls();
  if (wait_fast(t, s)) return TW_REAL_FN(sem_wait)(s);
  return wait_slow(t, s, TW_CALL_SEM_WAIT, 0, NULL, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int sem_timedwait(sem_t *s, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (wait_fast(t, s)) return TW_REAL_FN(sem_timedwait)(s, ts);
  return wait_slow(t, s, TW_CALL_SEM_TIMEDWAIT, 0, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *ts) {
  if (!TW_REAL_FN(sem_clockwait)) {
    errno = ENOSYS;
    return -1;
  }
  struct tw_tls *t = tw_tls();
  if (wait_fast(t, s)) return TW_REAL_FN(sem_clockwait)(s, clk, ts);
  return wait_slow(t, s, TW_CALL_SEM_CLOCKWAIT, clk, ts, TW_CALLER_PC(), TW_CALLER_SP());
}

TW_HOOK int sem_trywait(sem_t *s) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(destroyed(s)) && !TW_BYPASS(t))
    use_after_destroy(t, s, TW_CALLER_PC(), TW_CALLER_SP());
  return TW_REAL_FN(sem_trywait)(s);
}

/* Named semaphores are process-shared (glibc marks them so: anyone can post them, never asleep);
 * their name is given to the address, so reports say `semaphore 0x... "/jobs"`. The mode and
 * value arguments exist only with O_CREAT; reading them otherwise reads what the registers hold,
 * as glibc's own sem_open does. */
TW_HOOK sem_t *sem_open(const char *name, int oflag, ...) {
  va_list ap;
  va_start(ap, oflag);
  unsigned int mode = va_arg(ap, unsigned int);
  unsigned int value = va_arg(ap, unsigned int);
  va_end(ap);
  sem_t *s = TW_REAL_FN(sem_open)(name, oflag, mode, value);
  struct tw_tls *t = tw_tls();
  if (s == SEM_FAILED || TW_BYPASS(t)) return s;
  int saved = errno;
  tw_guard_enter(t);
  tw_analysis_lock(); /* serialises the writers of the name table */
  tw_names_set((uintptr_t)s, name);
  tw_analysis_unlock();
  tw_guard_leave(t);
  errno = saved;
  return s;
}

TW_HOOK int sem_close(sem_t *s) {
  struct tw_tls *t = tw_tls();
  if (!TW_BYPASS(t) && tw_names_any()) { /* the address may soon map something else */
    int saved = errno;
    tw_guard_enter(t);
    tw_analysis_lock();
    tw_names_set((uintptr_t)s, NULL);
    tw_analysis_unlock();
    tw_guard_leave(t);
    errno = saved;
  }
  return TW_REAL_FN(sem_close)(s);
}
