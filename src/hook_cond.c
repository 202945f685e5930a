/* Hooks for pthread_cond_* (the GLIBC_2.3.2 versions, hazard 2): condvar waits, cancellation-safe. */
#include <errno.h>
#include <pthread.h>

#include "hooks.h"
#include "ring.h"
#include "stackdepot.h"

/* The mutex stays on the held-lock stack during the wait: the thread holds it again whenever it runs
 * application code, including the cleanup handlers of a cancelled wait (hazard 4). The wait-for
 * analysis knows a condvar waiter does not hold it meanwhile. */

void tw__wait_cancel_cleanup(void *p) {
  /* Cancellation leaves every watched wait of the thread at once. */
  struct tw_thread *self = p;
  tw_tls()->in_wait = 0;
  if (self) tw_wait_end(self);
}

static TW_NOINLINE int cond_wait_common(pthread_cond_t *c, pthread_mutex_t *m, enum tw_call call,
                                        clockid_t clk, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  TW_ERRNO_SAVE();
  struct tw_thread *self = tw_wait_enter(t, call, (uintptr_t)c, (uintptr_t)m, -1);
  TW_ERRNO_RESTORE();
  int r;
  pthread_cleanup_push(tw__wait_cancel_cleanup, self);
  switch (call) {
    case TW_CALL_COND_TIMEDWAIT: r = TW_REAL_FN(pthread_cond_timedwait)(c, m, ts); break;
    case TW_CALL_COND_CLOCKWAIT: r = TW_REAL_FN(pthread_cond_clockwait)(c, m, clk, ts); break;
    default: r = TW_REAL_FN(pthread_cond_wait)(c, m); break;
  }
  pthread_cleanup_pop(0);
  tw_wait_leave(t, self);
  return r;
}

TW_HOOK int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_cond_wait)(c, m);
  return cond_wait_common(c, m, TW_CALL_COND_WAIT, 0, NULL);
}

TW_HOOK int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_cond_timedwait)(c, m, ts);
  return cond_wait_common(c, m, TW_CALL_COND_TIMEDWAIT, 0, ts);
}

TW_HOOK int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                                   const struct timespec *ts) {
  struct tw_tls *t = tw_tls();
  if (!TW_REAL_FN(pthread_cond_clockwait)) return ENOSYS;
  if (TW_BYPASS(t)) return TW_REAL_FN(pthread_cond_clockwait)(c, m, clk, ts);
  return cond_wait_common(c, m, TW_CALL_COND_CLOCKWAIT, clk, ts);
}

/* A signal that finds no waiter is a no-op; if a thread then waits without checking a predicate, the
 * wakeup is lost. Such signals are told to the reporter (it names them when a waiter stalls), at most
 * once per condvar and call site every TW_NOWAITER_REFRESH_NS per thread: a correct program may
 * signal an empty condvar at a high rate. glibc's own test is the same: no waiter references in
 * __wrefs (bits 3 and up). */
#define TW_NOWAITER_REFRESH_NS (100ull * 1000 * 1000)

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
                        .c = now, .stack = tw_stack_capture_earlier(pc, sp)};
  tw_ring_t *r = tw__ring_of(self);
  if (r) tw_ring_push(r, &ev); /* evidence only: a full ring drops it (counted), never waits */
  tw_guard_leave(t);
  TW_ERRNO_RESTORE();
}

static inline bool no_waiter(pthread_cond_t *c) {
  return (__atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) >> 3) == 0;
}

TW_HOOK int pthread_cond_signal(pthread_cond_t *c) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(no_waiter(c)) && !TW_BYPASS(t))
    note_no_waiter(t, c, TW_CALLER_PC(), TW_CALLER_SP(), 0);
  return TW_REAL_FN(pthread_cond_signal)(c);
}

TW_HOOK int pthread_cond_broadcast(pthread_cond_t *c) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(no_waiter(c)) && !TW_BYPASS(t))
    note_no_waiter(t, c, TW_CALLER_PC(), TW_CALLER_SP(), 1);
  return TW_REAL_FN(pthread_cond_broadcast)(c);
}

TW_HOOK int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) {
  return TW_REAL_FN(pthread_cond_init)(c, a);
}

TW_HOOK int pthread_cond_destroy(pthread_cond_t *c) { return TW_REAL_FN(pthread_cond_destroy)(c); }
