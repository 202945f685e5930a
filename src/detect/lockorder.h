/* The hook side of lock-order checking: a per-thread cache of edges already sent, so an acquisition
 * whose edges are all known touches only thread-local state, behind it a process-wide table of the
 * same facts (a new thread, or one whose working set outgrew its cache, does not send again what
 * another thread sent); never-seen edges go to the reporter. */
#ifndef TW_LOCKORDER_H
#define TW_LOCKORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/atomic.h"
#include "base/limits.h"
#include "runtime/tls.h"

#include <pthread.h>

struct tw_edge_slot {
  uintptr_t from, to, gate; /* from/to carry the held mode in their low 2 bits */
  uint64_t gen;             /* tw__lock_gen when it was filled: older entries are misses */
};

/* "Every edge from this held set into this lock has been sent": the hot path's one probe. */
struct tw_set_slot {
  uint64_t sig;       /* tw_held_sig() */
  uintptr_t to;       /* lock | mode */
  uintptr_t outer;    /* held[0].lock: the gate of most edges, so part of the answer */
  uint64_t gen;       /* tw__lock_gen when it was filled: older entries are misses */
};

struct tw_site_slot {
  uintptr_t pc, sp;
  uint32_t stack;
};

/* Direct-mapped tables that start at TW_EDGE_CACHE_FIRST_SLOTS and double (up to
 * TW_EDGE_CACHE_SLOTS) when valid entries keep being replaced: a thread with two nested locks keeps
 * about 2 KiB, one that cycles through many held sets at most TW_EDGE_CACHE_SLOTS x 88 bytes. */
struct tw_edge_cache {
  uint32_t mask;      /* slots - 1 of set[] and edge[] */
  uint32_t site_mask; /* slots - 1 of site[] */
  uint32_t evicted;   /* valid entries replaced since the tables last grew */
  struct tw_set_slot *set;
  struct tw_edge_slot *edge;
  struct tw_site_slot *site;
};

/* Bumped when a lock that is in the graph is destroyed or re-initialised: every cache entry made
 * before is stale (an edge into a new lock at the same address must be sent again). Entries carry
 * the generation they were made in, so staleness costs a miss, never a flush of the whole cache. */
extern _Atomic uint64_t tw__lock_gen;
/* The order of lock events across threads (see event.h). */
extern _Atomic uint32_t tw__lock_seq;
/* Lock addresses that ever appeared in a sent edge (a Bloom filter of one hash). */
extern _Atomic uint64_t tw__lock_bloom[TW_LOCK_BLOOM_BITS / 64];

static inline uint32_t tw_edge_slot_of(uintptr_t from, uintptr_t to, uintptr_t gate,
                                       uint32_t mask) {
  uint64_t h = (uint64_t)from * 0x9E3779B97F4A7C15ull ^ (uint64_t)to * 0xC2B2AE3D27D4EB4Full ^
               (uint64_t)gate * 0x165667B19E3779F9ull;
  return (uint32_t)(h >> 44) & mask;
}

/* sig is already well mixed (tw_held_hash), and names the outer lock too. */
static inline uint32_t tw_set_slot_of(uint64_t sig, uintptr_t to, uint32_t mask) {
  uint64_t h = sig ^ (uint64_t)to * 0xC2B2AE3D27D4EB4Full;
  return (uint32_t)(h >> 44) & mask;
}

/* The gate of the edge from held lock i: the outermost other held lock (0 if none). */
static inline uintptr_t tw_edge_gate(const struct tw_held *h, uint32_t n, uint32_t i) {
  return i ? h[0].lock : (n > 1 ? h[1].lock : 0);
}

/* An attempt to take `lock` in `mode` (enum tw_held_mode) by a call that can block, made at return
 * address pc with caller stack pointer sp, while t->held are held, that tw_lockorder_known() did not
 * find: sends every edge of this acquisition that the cache does not know (and sets the cache up).
 * Call it before blocking, with the thread adopted (t->self; a thread without a record sends
 * nothing). Returns true when every edge is now sent. */
bool tw__lockorder_slow(struct tw_tls *t, uintptr_t lock, uint32_t mode, uintptr_t pc, uintptr_t sp);

/* True when every edge from the held set into `lock` taken in `mode` has been sent already (and the
 * thread holds at least one lock). The probe the hot path makes. */
static inline bool tw_lockorder_known(const struct tw_tls *t, uintptr_t lock, uint32_t mode) {
  const struct tw_edge_cache *c = t->ecache;
  if (tw_unlikely(c == NULL)) return false;
  uintptr_t to = lock | mode, outer = t->held[0].lock;
  uint64_t sig = tw_held_sig(t);
  const struct tw_set_slot *s = &c->set[tw_set_slot_of(sig, to, c->mask)];
  return s->sig == sig && s->to == to && s->outer == outer &&
         s->gen == tw_load_relaxed(&tw__lock_gen);
}

/* Frees the calling thread's edge cache (at thread exit). */
void tw__lockorder_thread_exit(struct tw_tls *t);

/* `lock` was initialised at return address pc (lock classes only). The caller is adopted. */
void tw__lockorder_init_site(uintptr_t lock, uintptr_t pc);

/* `lock` is being destroyed or (re)initialised: if it is in the graph, retire it there. Sent from
 * the calling thread's ring (a thread not adopted yet makes only the generation bump). */
void tw__lockorder_reset_slow(uintptr_t lock);
/* Lock identity across memory reuse. A lock's node is its address (hazard 9), and init/destroy
 * retire it; but a std::mutex or a zeroed malloc'd mutex is never initialised nor destroyed: freed
 * and replaced by a new one at the same address, locked in the other order, it would inherit the
 * old lock's edges and close a false cycle. So a plain (not robust) mutex carries a tag, the
 * hash of its own address, in a word glibc uses only for robust mutexes (__data.__list.__next;
 * pthread_mutex_init, PTHREAD_MUTEX_INITIALIZER and a constructor zero it). An acquisition that
 * sends edges checks the tags of the locks involved: a missing or foreign tag is a new lock at that
 * address, whose old node is retired first. Nothing is done on free(): the check rides on the slow
 * path that sends edges, and on the memo-miss path, where the mutex's cache line is loaded anyway. */
static inline uintptr_t tw_lock_tag(uintptr_t lock) {
  return (lock ^ 0x7477746167ull) * 0x9E3779B97F4A7C15ull | 1; /* never 0 */
}
/* The tag word of a mutex that can carry one, or NULL (rwlocks, robust mutexes). */
static inline _Atomic uintptr_t *tw_lock_tag_word(uintptr_t lock, uint32_t mode) {
  if (mode != TW_HELD_MUTEX) return NULL;
  pthread_mutex_t *m = (pthread_mutex_t *)lock;
  int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
  if (kind == -1 || (kind & 16)) return NULL; /* destroyed (its words say where), robust */
  return (_Atomic uintptr_t *)&m->__data.__list.__next;
}
static inline bool tw_lock_tag_ok(uintptr_t lock, uint32_t mode) {
  _Atomic uintptr_t *w = tw_lock_tag_word(lock, mode);
  return !w || tw_load_relaxed(w) == tw_lock_tag(lock);
}

/* Whether `lock` may be in the graph (it appeared in a sent edge): one bit of a Bloom filter, the
 * whole cost of a lock init or destroy that never ordered anything. */
static inline bool tw_lockorder_maybe_known(uintptr_t lock) {
  uint64_t bit = ((uint64_t)lock * 0x9E3779B97F4A7C15ull >> 40) & (TW_LOCK_BLOOM_BITS - 1);
  return tw_unlikely(tw_load_relaxed(&tw__lock_bloom[bit / 64]) & (1ull << (bit % 64)));
}

#endif
