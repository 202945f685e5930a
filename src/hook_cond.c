/* Hooks for pthread_cond_* (the GLIBC_2.3.2 versions, hazard 2): condvar waits, cancellation-safe. */
#include <errno.h>
#include <pthread.h>

#include "hooks.h"

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

TW_HOOK int pthread_cond_signal(pthread_cond_t *c) { return TW_REAL_FN(pthread_cond_signal)(c); }

TW_HOOK int pthread_cond_broadcast(pthread_cond_t *c) {
  return TW_REAL_FN(pthread_cond_broadcast)(c);
}

TW_HOOK int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) {
  return TW_REAL_FN(pthread_cond_init)(c, a);
}

TW_HOOK int pthread_cond_destroy(pthread_cond_t *c) { return TW_REAL_FN(pthread_cond_destroy)(c); }
