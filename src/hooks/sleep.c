/* Hooks for sleeps: nanosleep, clock_nanosleep, usleep, sleep, thrd_sleep. A sleeping thread will
 * wake by itself: it is never part of a deadlock nor a stall, but reports and dumps show it as
 * "sleeping", with the sleep's length and its stack (a leaked thread that polls in a sleep loop is
 * then seen where it sleeps). All are cancellation points (hazard 4) and async-signal-safe: the
 * wait state is published without starting the reporter. A sleep of zero (a yield) is not shown. */
#include <errno.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "hooks/hooks.h"

static inline uint64_t ns_of(const struct timespec *ts) {
  return ts && ts->tv_sec >= 0 && ts->tv_nsec >= 0
             ? (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec
             : 0;
}

/* The real sleep named by `call`, bracketed by the sleeping state. `ns`: its length (0: until a
 * set time). */
#define TW_SLEEP(call, ns, expr) TW_WAIT_CALL(call, ns, 0, -1, expr)

TW_HOOK int nanosleep(const struct timespec *req, struct timespec *rem) {
  uint64_t ns = ns_of(req);
  if (ns == 0) return TW_REAL_FN(nanosleep)(req, rem);
  return TW_SLEEP(TW_CALL_NANOSLEEP, ns, TW_REAL_FN(nanosleep)(req, rem));
}

TW_HOOK int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
                            struct timespec *rem) {
  uint64_t ns = (flags & TIMER_ABSTIME) ? 0 : ns_of(req);
  if (ns == 0 && !(flags & TIMER_ABSTIME)) return TW_REAL_FN(clock_nanosleep)(clk, flags, req, rem);
  return TW_SLEEP(TW_CALL_CLOCK_NANOSLEEP, ns, TW_REAL_FN(clock_nanosleep)(clk, flags, req, rem));
}

TW_HOOK int usleep(useconds_t us) {
  if (us == 0) return TW_REAL_FN(usleep)(us);
  return TW_SLEEP(TW_CALL_USLEEP, (uint64_t)us * 1000, TW_REAL_FN(usleep)(us));
}

TW_HOOK unsigned int sleep(unsigned int s) {
  if (s == 0) return TW_REAL_FN(sleep)(s);
  return TW_SLEEP(TW_CALL_SLEEP, (uint64_t)s * 1000000000ull, TW_REAL_FN(sleep)(s));
}

TW_HOOK int thrd_sleep(const struct timespec *req, struct timespec *rem) {
  if (!TW_REAL_FN(thrd_sleep)) return -2; /* "another error", as C11 says */
  uint64_t ns = ns_of(req);
  if (ns == 0) return TW_REAL_FN(thrd_sleep)(req, rem);
  return TW_SLEEP(TW_CALL_THRD_SLEEP, ns, TW_REAL_FN(thrd_sleep)(req, rem));
}
