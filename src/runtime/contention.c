/* The contention records and the per-lock waits of the block and mutex profiles. */
#include "runtime/contention.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/limits.h"
#include "base/msg.h"
#include "base/tw.h"

int tw__profile_on;
unsigned tw__profile_rate = 1;

void tw_profile_configure(int on, unsigned rate) {
  __atomic_store_n(&tw__profile_rate, rate ? rate : 1, __ATOMIC_RELAXED);
  __atomic_store_n(&tw__profile_on, on, __ATOMIC_RELAXED);
}

/* --- records ------------------------------------------------------------------------------- */

/* A slot is claimed by one CAS (free -> filling), its key written, then published (ready) with a
 * release store; a reader or another adder acquires `state` before it reads the key. An adder that
 * meets a slot being filled moves on: at worst one key gets two slots, which the readers sum. */
enum { SLOT_FREE = 0, SLOT_FILLING = 1, SLOT_READY = 2 };
struct slot {
  _Atomic uint32_t state;
  uint8_t kind, wclass;
  uint32_t stack;
  uintptr_t obj;
  _Atomic uint64_t count, delay, max;
};
static struct slot slots[TW_PROFILE_RECORDS]; /* untouched (no memory) until profiling is on */
static _Atomic uint64_t records_dropped, waits_dropped;
static _Atomic int full_said;

static uint64_t key_hash(uint8_t kind, uint8_t wclass, uintptr_t obj, uint32_t stack) {
  uint64_t h = ((uint64_t)stack << 16 | (uint64_t)kind << 8 | wclass) * 0x9E3779B97F4A7C15ull;
  return h ^ (((uint64_t)obj >> 3) * 0xC2B2AE3D27D4EB4Full);
}

/* Async-signal-safe (a read or write hook in a signal handler can end a wait): a fixed text. */
static void say_full(void) {
  int none = 0;
  if (atomic_compare_exchange_strong(&full_said, &none, 1))
    tw_msg_str("threadwatch: a contention table is full (TW_PROFILE_RECORDS, TW_PROFILE_LOCKS); "
               "the profiles miss some events (counted in their comment)");
}

void tw_contention_add(uint8_t kind, uint8_t wclass, uintptr_t obj, uint32_t stack,
                       uint64_t delay_ns, uint32_t weight) {
  if (!weight) weight = 1;
  uint64_t h = key_hash(kind, wclass, obj, stack);
  for (unsigned k = 0; k < TW_PROFILE_PROBE; k++) {
    struct slot *s = &slots[(h + k) & (TW_PROFILE_RECORDS - 1)];
    uint32_t st = tw_load_acquire(&s->state); /* partner: the release store below */
    if (st == SLOT_FREE) {
      uint32_t expected = SLOT_FREE;
      if (atomic_compare_exchange_strong(&s->state, &expected, SLOT_FILLING)) {
        s->kind = kind;
        s->wclass = wclass;
        s->stack = stack;
        s->obj = obj;
        tw_store_release(&s->state, SLOT_READY);
        st = SLOT_READY;
      } else {
        st = expected;
        if (st == SLOT_READY) tw_fence_acquire();
      }
    }
    if (st != SLOT_READY || s->kind != kind || s->wclass != wclass || s->stack != stack ||
        s->obj != obj)
      continue;
    tw_add_relaxed(&s->count, weight);
    tw_add_relaxed(&s->delay, delay_ns * weight);
    uint64_t max = tw_load_relaxed(&s->max);
    while (delay_ns > max &&
           !atomic_compare_exchange_weak_explicit(&s->max, &max, delay_ns, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
    return;
  }
  tw_add_relaxed(&records_dropped, 1);
  say_full();
}

long tw_contention_snapshot(struct tw_contention **out) {
  size_t n = 0, cap = 0;
  struct tw_contention *all = NULL;
  for (size_t i = 0; i < TW_PROFILE_RECORDS; i++) {
    struct slot *s = &slots[i];
    if (tw_load_acquire(&s->state) != SLOT_READY) continue; /* partner: release in _add */
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      struct tw_contention *grown = realloc(all, cap * sizeof(*grown));
      if (!grown) {
        free(all);
        return -ENOMEM;
      }
      all = grown;
    }
    all[n++] = (struct tw_contention){s->kind, s->wclass, s->stack, s->obj,
                                      tw_load_relaxed(&s->count), tw_load_relaxed(&s->delay),
                                      tw_load_relaxed(&s->max)};
  }
  *out = all;
  return (long)n;
}

uint64_t tw_contention_dropped(void) {
  return tw_load_relaxed(&records_dropped) + tw_load_relaxed(&waits_dropped);
}

/* --- per-lock waits ------------------------------------------------------------------------ */

/* The waiting time a lock's registered waiters have accrued is kept as a sum: with n waiters that
 * started at s_i and a last charge at `last`, sum = Σ max(s_i, last). A charge at `now` takes
 * n * now - sum (each waiter's time since the later of its start and the last charge) and sets
 * sum = n * now. A waiter leaving takes its own max(s_i, last) out. Everything under the slot's
 * spin lock, held for a few instructions, by waiters and by unlocks that found waiters only.
 *
 * A slot belongs to one lock address while any waiter is registered on it; a slot with none may be
 * taken over by another lock (under the claim lock, so that one lock never has two slots). The
 * slots (struct tw_lockslot) are in contention.h, for the unlocks' inline tw_lockwait_maybe. */
#define lockslot tw_lockslot
struct tw_lockslot tw__lockslots[TW_PROFILE_LOCKS];
#define locks tw__lockslots
static _Atomic int claim_spin;
_Atomic int tw__lockwait_ever;

static void spin_lock(_Atomic int *l) {
  for (unsigned i = 0;; i++) {
    int expected = 0;
    if (atomic_compare_exchange_weak_explicit(l, &expected, 1, memory_order_acquire,
                                              memory_order_relaxed))
      return;
    if (i % 64 == 63) sched_yield(); /* the holder was preempted mid-way */
    else __builtin_ia32_pause();
  }
}
static void spin_unlock(_Atomic int *l) { tw_store_release(l, 0); }

static size_t lock_home(uintptr_t lock) { return tw_lockwait_home(lock); }

/* The slot of `lock`, locked, or NULL when it has none. A lock's slot is never past the first
 * slot of its probe sequence that was never used (lock 0): a claim takes the first slot without
 * waiters, and a slot never goes back to unused, so the search stops there. */
static struct lockslot *find_locked(uintptr_t lock) {
  size_t h = lock_home(lock);
  for (unsigned k = 0; k < TW_PROFILE_PROBE; k++) {
    struct lockslot *s = &locks[(h + k) & (TW_PROFILE_LOCKS - 1)];
    uintptr_t l = tw_load_relaxed(&s->lock);
    if (l == 0) return NULL;
    if (l != lock) continue;
    spin_lock(&s->spin);
    if (tw_load_relaxed(&s->lock) == lock) return s; /* still its own (not taken over) */
    spin_unlock(&s->spin);
  }
  return NULL;
}

uint32_t tw_lockwait_begin(uintptr_t lock, uint64_t start_ns) {
  struct lockslot *s = find_locked(lock);
  if (!s) {
    spin_lock(&claim_spin);
    s = find_locked(lock); /* another waiter may have claimed one meanwhile */
    size_t h = lock_home(lock);
    for (unsigned k = 0; !s && k < TW_PROFILE_PROBE; k++) {
      struct lockslot *c = &locks[(h + k) & (TW_PROFILE_LOCKS - 1)];
      spin_lock(&c->spin);
      if (c->n == 0) { /* free, or another lock's with no waiter: ours now */
        tw_store_relaxed(&c->lock, lock);
        c->sum = c->last = 0;
        s = c;
      } else {
        spin_unlock(&c->spin);
      }
    }
    spin_unlock(&claim_spin);
    if (!s) {
      tw_add_relaxed(&waits_dropped, 1);
      say_full();
      return 0;
    }
  }
  s->n++;
  s->sum += start_ns > s->last ? start_ns : s->last;
  tw_store_relaxed(&s->waiters, s->n);
  spin_unlock(&s->spin);
  if (!tw_load_relaxed(&tw__lockwait_ever)) tw_store_relaxed(&tw__lockwait_ever, 1);
  return (uint32_t)(s - locks) + 1;
}

void tw_lockwait_end(uint32_t h, uint64_t start_ns) {
  if (!h || h > TW_PROFILE_LOCKS) return;
  struct lockslot *s = &locks[h - 1];
  spin_lock(&s->spin);
  uint64_t mine = start_ns > s->last ? start_ns : s->last;
  if (s->n) {
    s->n--;
    s->sum = s->n && s->sum > mine ? s->sum - mine : 0;
    tw_store_relaxed(&s->waiters, s->n);
  }
  spin_unlock(&s->spin);
}

uint64_t tw_lockwait_charge(uintptr_t lock, uint64_t now_ns) {
  struct lockslot *s = find_locked(lock);
  if (!s) return 0;
  uint64_t delay = 0;
  if (s->n) {
    if (!now_ns) now_ns = tw__now_ns();
    if (now_ns < s->last) now_ns = s->last;
    uint64_t all = (uint64_t)s->n * now_ns;
    delay = all > s->sum ? all - s->sum : 0;
    s->sum = all;
    s->last = now_ns;
  }
  spin_unlock(&s->spin);
  return delay;
}

void tw_contention_after_fork_child(void) {
  /* One thread now, ours: no lock is held, no waiter is registered, the tables start empty. Only
   * touched when profiling is on (memset would fault in every page of the tables). */
  if (!tw_profile_on()) return;
  memset(slots, 0, sizeof(slots));
  memset(locks, 0, sizeof(locks));
  tw_store_relaxed(&claim_spin, 0);
  tw_store_relaxed(&tw__lockwait_ever, 0);
  tw_store_relaxed(&records_dropped, 0);
  tw_store_relaxed(&waits_dropped, 0);
}
