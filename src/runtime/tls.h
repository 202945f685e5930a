/* Per-thread state of the hooks: re-entrancy guard, own record, held-lock stack. */
#ifndef TW_TLS_H
#define TW_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/limits.h"
#include "runtime/registry.h"
#include "base/tw.h"

/* How a lock is held: a mutex (C11 mtx_t too), an rwlock for reading or writing, a spinlock. The
 * mode rides in the low 2 bits of lock addresses in the lock-order caches (every lock is 4-byte
 * aligned). */
enum tw_held_mode { TW_HELD_MUTEX = 0, TW_HELD_READ = 1, TW_HELD_WRITE = 2, TW_HELD_SPIN = 3 };

struct tw_held {
  uintptr_t lock;
  uintptr_t pc;   /* return address of the acquiring call: where it was taken */
  uintptr_t sp;   /* the caller's stack pointer at that call (tells call paths apart) */
  uint64_t sig;   /* signature of the held set up to and including this entry (tw_held_sig) */
  union {
    struct {
      uint16_t mode;  /* enum tw_held_mode */
      uint16_t plain; /* TW_HELD_PLAIN: a plain mutex (hooks/mutex.c), whose unlock by the owner
                       * cannot fail; TW_HELD_ROBUST: a robust mutex (its owner may end holding it:
                       * that is the protocol, not a misuse) */
      uint32_t count; /* recursive acquisitions of the same lock */
    };
    uint64_t state;   /* the three at once: one compare on the unlock fast path */
  };
  uint32_t since;   /* tw__coarse_tick when it was taken (0: unknown): the dump's "since 3.20s" */
};

/* `plain` bits. TW_HELD_BY_TRYLOCK: taken by a trylock, which cannot block, so no lock-order edge
 * leads into it (detect/lockorder.c walks past such an entry to the locks below it). */
enum { TW_HELD_PLAIN = 1, TW_HELD_ROBUST = 2, TW_HELD_BY_TRYLOCK = 4 };

/* A clock of 100 ms ticks, advanced by the reporter thread on each of its ticks (0 until it runs):
 * what a lock acquisition stores for the dump at the cost of one load of a line that changes ten
 * times a second. */
#define TW_COARSE_TICK_NS (100ull * 1000 * 1000)
extern _Atomic uint32_t tw__coarse_tick;

/* The state of a plain mutex taken once. */
#define TW_HELD_PLAIN_ONCE ((uint64_t)1 << 32 | (uint64_t)1 << 16 | TW_HELD_MUTEX)

struct tw_edge_cache; /* lockorder.h */

struct tw_tls {
  int guard;                /* > 0 while tool code runs on this thread: hooks pass straight through */
  bool gone;                /* the thread has left (our TSD destructor ran): hooks pass through */
  struct tw_thread *self;   /* NULL until the thread's first hook */
  uint32_t in_wait;         /* > 0 inside a watched blocking call (a signal handler's I/O nests) */
  uintptr_t wait_sp[TW_WAIT_NEST]; /* per nesting level, the caller's stack pointer at the call: a
                                    * longjmp to a frame at or above it leaves that call */
  struct {                  /* tracked fds this thread reported I/O on (dedups TW_EV_FD_IO): */
    int32_t fd;             /* a small set by fd number, each with the fd's generation and the */
    uint32_t gen;           /* directions already sent (TW_EV_IO_READ | TW_EV_IO_WRITE bits) */
    uint32_t dirs;
  } io_seen[TW_IO_SEEN_SLOTS];
  uintptr_t nowaiter_cond;  /* the last condvar signal sent as "found no waiter", and its site */
  uintptr_t nowaiter_pc;
  uint64_t nowaiter_ns;
  struct tw_edge_cache *ecache; /* lock-order edges this thread already sent; NULL until needed */
  struct tw_thread *joining;    /* the record this thread is inside pthread_join on, if any */
  uint32_t prof_weight;   /* THREADWATCH_PROFILE: the current wait is recorded, standing for this
                           * many (the sampling rate); 0: not recorded */
  uint32_t prof_rng;      /* the sampling draw's xorshift state, 0 until the first draw */
  uint32_t prof_lockwait; /* the current lock wait's tw_lockwait_begin handle, 0 for none */
  uint64_t prof_since;    /*   and when that wait began */
  uintptr_t stack_lo, stack_hi; /* the thread's own stack (0: unknown): a capture on another one,
                                 * an alternate signal stack, may not fit (stackdepot.c) */
  uintptr_t fed[4];         /* semaphores/futex words this thread told the reporter it fed */
  uint32_t fed_gen;         /* tw__feed_gen when `fed` was valid (runtime/feeders.h) */
  uint32_t fed_next;        /* the memo slot to replace next */
  uint32_t nheld;
  uint32_t cap;             /* capacity of `held` */
  struct tw_held *held;     /* inline_held, or a heap array when more are held at once */
  struct tw_held inline_held[TW_HELD_INLINE];
};

extern __thread struct tw_tls tw__tls __attribute__((tls_model("initial-exec")));

static inline struct tw_tls *tw_tls(void) { return &tw__tls; }

/* The held set's signature is a sum (not a xor: a lock held twice must not cancel out). */
static inline uint64_t tw_held_hash(uintptr_t lock, uint32_t mode) {
  return ((uint64_t)(lock | mode) * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)lock >> 17);
}

/* The signature of the held set: one word naming it, whatever the order. Each entry keeps the
 * signature of the set up to itself, so this is one load, however many locks are held. */
static inline uint64_t tw_held_sig(const struct tw_tls *t) {
  return t->nheld ? t->held[t->nheld - 1].sig : 0;
}

/* Held-lock stack. Push never fails (spills to the heap past TW_HELD_INLINE). */
void tw__held_grow(struct tw_tls *t);
static inline void tw_held_push(struct tw_tls *t, uintptr_t lock, uintptr_t pc, uintptr_t sp,
                                uint32_t mode) {
  if (t->nheld > 0) {
    struct tw_held *top = &t->held[t->nheld - 1];
    if (top->lock == lock && top->mode == mode) { /* recursive re-acquisition */
      top->count++;
      return;
    }
  }
  if (tw_unlikely(t->held == NULL || t->nheld == t->cap)) tw__held_grow(t);
  uint64_t sig = tw_held_sig(t) + tw_held_hash(lock, mode);
  t->held[t->nheld++] = (struct tw_held){.lock = lock, .pc = pc, .sp = sp, .sig = sig,
                                         .mode = (uint16_t)mode, .count = 1,
                                         .since = tw_load_relaxed(&tw__coarse_tick)};
}
/* This thread's entry for `lock`, searching from the top; with mode >= 0 only an entry held in that
 * mode. NULL when it does not hold it. */
static inline const struct tw_held *tw_held_find(const struct tw_tls *t, uintptr_t lock, int mode) {
  for (uint32_t i = t->nheld; i-- > 0;)
    if (t->held[i].lock == lock && (mode < 0 || t->held[i].mode == (uint32_t)mode)) return &t->held[i];
  return NULL;
}

/* Marks the entry just pushed for `lock` as taken by a trylock (see TW_HELD_BY_TRYLOCK). */
static inline void tw_held_mark_trylock(struct tw_tls *t, uintptr_t lock) {
  struct tw_held *top = t->nheld ? &t->held[t->nheld - 1] : NULL;
  if (top && top->lock == lock && top->count == 1) top->plain |= TW_HELD_BY_TRYLOCK;
}

/* Pops `lock` (searching from the top: locks are not always released in LIFO order).
 * Returns false when this thread holds no such lock. */
bool tw_held_pop(struct tw_tls *t, uintptr_t lock);

/* The common case inline: the lock is the top of the stack, held once. */
static inline void tw_held_pop_fast(struct tw_tls *t, uintptr_t lock) {
  uint32_t n = t->nheld;
  if (tw_likely(n != 0 && t->held[n - 1].lock == lock && t->held[n - 1].count == 1)) t->nheld = n - 1;
  else tw_held_pop(t, lock);
}

/* Records the calling thread's stack bounds (pthread_getattr_np). Not async-signal-safe: at thread
 * start and in the constructor only. */
void tw_tls_note_stack(struct tw_tls *t);
/* Another thread's held locks, read without stopping it (the dump): `tls` is its struct tw_tls
 * (struct tw_thread.tls). Copies up to max entries, outermost first, into out and returns how many
 * it holds; 0 when its memory cannot be read. A lock taken or released meanwhile may be missed. */
uint32_t tw_held_read_other(uintptr_t tls, struct tw_held *out, uint32_t max);

/* Guard helpers: every piece of tool code that may call hooked functions runs between these. */
static inline void tw_guard_enter(struct tw_tls *t) { t->guard++; }
static inline void tw_guard_leave(struct tw_tls *t) { t->guard--; }

#endif
