/* Contention accounting for the block and mutex profiles (THREADWATCH_PROFILE), Go's two views of
 * waiting: the block profile charges the time a thread waited to the waiter's stack; the mutex
 * profile charges the delay a lock holder caused its waiters to the holder's unlock stack (the
 * holder is the one to fix). Only slow paths call in here (a contended acquisition, a blocking
 * wait, an unlock that found waiters): the uncontended fast path never does.
 *
 * Two fixed tables, lock-free for their readers and writers:
 *  - the records: one per (kind, wait class, stack, object), with count, total and max delay
 *    (atomic adds; a full table drops the event and counts it);
 *  - the lock waits: per contended lock, its registered waiters and the waiting time they have
 *    accrued since the holder was last charged, so that an unlock charges exactly the time its
 *    hold kept them waiting (a tiny per-lock spin lock, held for a few instructions). */
#ifndef TW_RUNTIME_CONTENTION_H
#define TW_RUNTIME_CONTENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"

/* The two profiles, as bits of tw__profile_on and as record kinds. */
enum { TW_PROF_BLOCK = 1, TW_PROF_MUTEX = 2 };

/* Which profiles THREADWATCH_PROFILE turned on (TW_PROF_* bits), and 1 in how many contention events
 * is recorded (THREADWATCH_PROFILE_RATE). Written once at initialisation. Hidden: the hooks load it
 * with one RIP-relative mov. */
extern int tw__profile_on __attribute__((visibility("hidden")));
extern unsigned tw__profile_rate __attribute__((visibility("hidden")));

static inline int tw_profile_on(void) { return __atomic_load_n(&tw__profile_on, __ATOMIC_RELAXED); }

/* Sets the switches (initialisation; tests). */
void tw_profile_configure(int on, unsigned rate);

/* One record: `count` events of `kind` on object `obj` (a lock or condvar address, an fd, a joined
 * thread's T-number) of wait class `wclass` (enum tw_wait_class), charged to depot stack `stack`,
 * with their total and largest delay. Counts and totals are scaled by the sampling weight; the max is one event's. */
struct tw_contention {
  uint8_t kind;   /* TW_PROF_BLOCK: the waiter's wait; TW_PROF_MUTEX: the holder's delay */
  uint8_t wclass;
  uint32_t stack;
  uintptr_t obj;
  uint64_t count, delay_ns, max_ns;
};

/* Adds one event (weight: 1 in how many such events this one stands for, >= 1). Any thread, any
 * context (async-signal-safe: lock-free, no allocation, never blocks). */
void tw_contention_add(uint8_t kind, uint8_t wclass, uintptr_t obj, uint32_t stack,
                       uint64_t delay_ns, uint32_t weight);

/* A copy of every record, in a malloc'd array (*out, NULL when there is none). Returns the count,
 * or -ENOMEM. */
long tw_contention_snapshot(struct tw_contention **out);

/* Events lost because the record table was full, and lock waits not charged because the lock table
 * was (each said once on stderr). */
uint64_t tw_contention_dropped(void);

/* --- the mutex profile's per-lock waits --- */

/* A (sampled) waiter starts waiting for `lock` at start_ns. Returns a handle for
 * tw_lockwait_end (0 when the lock table is full: then the wait is not charged to any holder). */
uint32_t tw_lockwait_begin(uintptr_t lock, uint64_t start_ns);
/* The waiter with handle h, which started at start_ns, stops waiting (acquired, timed out, failed). */
void tw_lockwait_end(uint32_t h, uint64_t start_ns);
/* The holder of `lock` is about to release it: returns the waiting time its registered waiters have
 * accrued since the last charge (and resets it), 0 when none waits. `now_ns` 0: the clock is read
 * here, only when a waiter is registered. */
uint64_t tw_lockwait_charge(uintptr_t lock, uint64_t now_ns);
/* The per-lock slots (contention.c owns them; here for tw_lockwait_maybe). */
struct tw_lockslot {
  _Atomic uintptr_t lock;   /* 0: never used */
  _Atomic int spin;
  _Atomic uint32_t waiters; /* n, readable without the spin lock */
  uint32_t n;               /* registered waiters */
  uint64_t sum, last;       /* accrued-time bookkeeping (contention.c) */
};
extern struct tw_lockslot tw__lockslots[] __attribute__((visibility("hidden")));
/* Set once, never cleared, when a waiter first registers anywhere. */
extern _Atomic int tw__lockwait_ever __attribute__((visibility("hidden")));

static inline size_t tw_lockwait_home(uintptr_t lock) {
  return (size_t)(((uint64_t)lock >> 3) * 0x9E3779B97F4A7C15ull >> 40) & (TW_PROFILE_LOCKS - 1);
}

/* Whether a sampled waiter may be registered on `lock` right now: a racy hint for an unlock to take
 * its slow path, where tw_lockwait_charge decides. Loads only, no call (it sits in the unlock fast
 * paths): one load until any lock was ever waited for; then the lock's home slot, and "maybe" when
 * another lock holds that slot (the charge then searches further). */
static inline bool tw_lockwait_maybe(uintptr_t lock) {
  if (!__atomic_load_n((int *)&tw__lockwait_ever, __ATOMIC_RELAXED)) return false;
  struct tw_lockslot *s = &tw__lockslots[tw_lockwait_home(lock)];
  uintptr_t l = __atomic_load_n((uintptr_t *)&s->lock, __ATOMIC_RELAXED);
  if (l == 0) return false;
  if (l == lock) return __atomic_load_n((uint32_t *)&s->waiters, __ATOMIC_RELAXED) != 0;
  return true;
}

/* In a forked child: the parent's contention is not the child's. */
void tw_contention_after_fork_child(void);

#endif
