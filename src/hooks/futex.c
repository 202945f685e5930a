/* The hook of syscall(2), for raw futexes only (libstdc++'s std::future, std::latch,
 * std::counting_semaphore and std::atomic::wait call syscall(SYS_futex, ...) themselves). Every
 * other system call goes straight through with its six argument words, as glibc's own syscall()
 * passes them (it reads six whatever the call takes). A futex wait is a wait on its address: who
 * can end it are the threads that woke that address before (a FUTEX_WAKE through this hook), as
 * for a semaphore's posters. */
#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks/hooks.h"

/* Operations that wait on uaddr (the low bits of op, without FUTEX_PRIVATE_FLAG and
 * FUTEX_CLOCK_REALTIME), and those that wake it. */
static inline int futex_cmd(long op) { return (int)(op & FUTEX_CMD_MASK); }
static inline bool waits(int cmd) {
  return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI ||
         cmd == FUTEX_WAIT_REQUEUE_PI || cmd == 13 /* FUTEX_LOCK_PI2, Linux 5.14 */;
}
static inline bool wakes(int cmd) {
  return cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET || cmd == FUTEX_WAKE_OP ||
         cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_UNLOCK_PI ||
         cmd == FUTEX_CMP_REQUEUE_PI;
}

static TW_NOINLINE long futex_slow(struct tw_tls *t, long uaddr, long op, long val, long a4,
                                   long a5, long a6) {
  long (*real)(long, ...) = TW_REAL_FN(syscall);
  int cmd = futex_cmd(op);
  if (wakes(cmd)) {
    if (!tw_feed_known(t, (uintptr_t)uaddr)) tw__feed_slow(t, (uintptr_t)uaddr, TW_FEED_FUTEX);
    if (cmd == FUTEX_WAKE_OP && !tw_feed_known(t, (uintptr_t)a5))
      tw__feed_slow(t, (uintptr_t)a5, TW_FEED_FUTEX);
    return real(SYS_futex, uaddr, op, val, a4, a5, a6);
  }
  /* A FUTEX_WAIT whose word no longer holds `val` returns EAGAIN at once: not a wait. A timeout
   * (a4) makes it a timed wait; FUTEX_WAIT_REQUEUE_PI and LOCK_PI take it in a4 too. */
  if (!waits(cmd) ||
      ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) &&
       __atomic_load_n((const int *)uaddr, __ATOMIC_RELAXED) != (int)val))
    return real(SYS_futex, uaddr, op, val, a4, a5, a6);
  TW_ERRNO_SAVE();
  struct tw_thread *self = tw_wait_enter(t, a4 ? TW_CALL_FUTEX_TIMED : TW_CALL_FUTEX,
                                         (uintptr_t)uaddr, (uintptr_t)op, -1);
  TW_ERRNO_RESTORE();
  long r = real(SYS_futex, uaddr, op, val, a4, a5, a6);
  int e = errno;
  tw_wait_leave(t, self);
  errno = e;
  return r;
}

TW_HOOK long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  if (tw_likely(nr != SYS_futex)) return TW_REAL_FN(syscall)(nr, a1, a2, a3, a4, a5, a6);
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(syscall)(nr, a1, a2, a3, a4, a5, a6);
  return futex_slow(t, a1, a2, a3, a4, a5, a6);
}
