/* The hook side of the contention profiles (THREADWATCH_PROFILE, runtime/contention.h): which
 * waits are recorded, what a recorded wait cost the waiter (the block profile), and what a lock
 * holder's unlock cost its waiters (the mutex profile). Slow paths only: a wait that began, an
 * unlock that found waiters. Errno is kept. */
#include <errno.h>

#include "hooks/hooks.h"
#include "runtime/calls.h"
#include "runtime/contention.h"
#include "runtime/stackdepot.h"

/* fd waits shorter than this did not block: the read or write hook cannot tell a read that found
 * data from one that slept, and a pipe read that found data costs about a microsecond. */
#define TW_PROFILE_FD_MIN_NS (10ull * 1000)

/* Locks: their waits feed the contention table, and their holders the mutex profile. */
static bool lock_class(enum tw_wait_class c) {
  return c == TW_WC_MUTEX || c == TW_WC_RWLOCK || c == TW_WC_SPIN;
}

/* The block profile is about threads waiting for each other (Go's: channels, select, sync
 * primitives, not sleeps or the network): locks, condvars, joins, semaphores, barriers, futex
 * words, pipes and eventfds; not sleeps, nor sockets and poll sets, whose waits are mostly idle
 * servers waiting for the outside world. */
static bool block_class(enum tw_wait_class c) {
  return c != TW_WC_SLEEP && c != TW_WC_SOCK && c != TW_WC_POLL && c != TW_WC_NONE;
}

/* One draw in `rate` says yes: a per-thread xorshift32, seeded from the thread and the clock. */
static bool sampled(struct tw_tls *t, unsigned rate) {
  if (rate <= 1) return true;
  uint32_t x = t->prof_rng;
  if (!x) x = (uint32_t)(tw__now_ns() ^ (uintptr_t)t ^ 0x9E3779B9u) | 1;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  t->prof_rng = x;
  return x % rate == 0;
}

void tw__profile_wait_begin(struct tw_tls *t, struct tw_thread *self, enum tw_call call) {
  int on = tw_profile_on();
  enum tw_wait_class c = tw_call_class(call);
  tw__profile_wait_abandon(t); /* a wait left without its end (a longjmp out of it) */
  /* Lock waits feed the contention table and the mutex profile's charges with either profile;
   * other waits only the block profile. */
  if (!block_class(c) || !(lock_class(c) ? on : on & TW_PROF_BLOCK)) return;
  unsigned rate = __atomic_load_n(&tw__profile_rate, __ATOMIC_RELAXED);
  if (!sampled(t, rate)) return;
  t->prof_weight = rate ? rate : 1;
  /* A lock waiter is registered on its lock: the holder's unlock charges it (the mutex profile). */
  if (lock_class(c) && (on & TW_PROF_MUTEX)) {
    t->prof_since = tw_load_relaxed(&self->wait.since_ns);
    t->prof_lockwait = tw_lockwait_begin(tw_load_relaxed(&self->wait.obj), t->prof_since);
  }
}

void tw__profile_wait_abandon(struct tw_tls *t) {
  /* A registered lock wait that is not ended would be charged to the lock's holders forever. */
  if (t->prof_lockwait) tw_lockwait_end(t->prof_lockwait, t->prof_since);
  t->prof_lockwait = 0;
  t->prof_weight = 0;
}

void tw__profile_wait_done(struct tw_tls *t, struct tw_thread *self) {
  TW_ERRNO_SAVE();
  uint64_t since = tw_load_relaxed(&self->wait.since_ns), now = tw__now_ns();
  enum tw_call call = (enum tw_call)tw_load_relaxed(&self->wait.call);
  enum tw_wait_class c = tw_call_class(call);
  /* The object as the profiles name it: an fd by number, a joined thread by its T-number (its
   * pthread_t may be another thread's by the time a profile is made), a lock by address. */
  uintptr_t obj = c == TW_WC_FD     ? (uintptr_t)tw_load_relaxed(&self->wait.fd)
                  : c == TW_WC_JOIN ? (t->joining ? (uintptr_t)t->joining->id : 0)
                                    : tw_load_relaxed(&self->wait.obj);
  uint64_t delay = now > since ? now - since : 0;
  if (t->prof_lockwait) tw_lockwait_end(t->prof_lockwait, t->prof_since);
  if (call != TW_CALL_NONE && (c != TW_WC_FD || delay >= TW_PROFILE_FD_MIN_NS)) {
    /* The waiter's stack: a wait records only its call site (no walk when it begins); a sampled
     * one is unwound here, on its own thread, still inside the hook (the call-path cache makes a
     * wait at a known place a compare per frame). */
    uint32_t stack = tw_load_relaxed(&self->wait.stack);
    if (!stack) {
      tw_guard_enter(t);
      stack = tw_stack_capture();
      tw_guard_leave(t);
    }
    tw_contention_add(TW_PROF_BLOCK, (uint8_t)c, obj, stack, delay, t->prof_weight);
  }
  t->prof_weight = 0;
  t->prof_lockwait = 0;
  TW_ERRNO_RESTORE();
}

void tw__profile_unlocked(struct tw_tls *t, enum tw_wait_class c, uintptr_t lock, uint64_t delay,
                          uintptr_t pc, uintptr_t sp) {
  TW_ERRNO_SAVE();
  /* The unlock's stack: its call site (pc), then the frames above it (sp). A contended lock is
   * released from the same few places over and over, which the call-path cache finds again by a
   * compare per frame. */
  tw_guard_enter(t);
  uint32_t stack = tw_stack_capture_earlier(pc, sp);
  tw_guard_leave(t);
  tw_contention_add(TW_PROF_MUTEX, (uint8_t)c, lock, stack, delay,
                    __atomic_load_n(&tw__profile_rate, __ATOMIC_RELAXED));
  TW_ERRNO_RESTORE();
}
