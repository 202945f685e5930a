/* The hook side of lock-order checking: a per-thread cache of edges already sent, so an acquisition
 * whose edges are all known touches only thread-local state; never-seen edges go to the reporter. */
#ifndef TW_LOCKORDER_H
#define TW_LOCKORDER_H

#include <stdint.h>

#include "atomic.h"
#include "limits.h"
#include "tls.h"

struct tw_edge_slot {
  uintptr_t from, to, gate; /* from/to carry the held mode in their low 2 bits */
};

struct tw_site_slot {
  uintptr_t pc, sp;
  uint32_t stack;
};

struct tw_edge_cache {
  uint64_t gen; /* tw__lock_gen when the cache was last valid */
  struct tw_edge_slot edge[TW_EDGE_CACHE_SLOTS];
  struct tw_site_slot site[TW_SITE_CACHE_SLOTS];
};

/* Bumped when a lock that is in the graph is destroyed or re-initialised: every thread's cache is
 * then stale (an edge into the new lock at the same address must be sent again). */
extern _Atomic uint64_t tw__lock_gen;
/* Lock addresses that ever appeared in a sent edge (a Bloom filter of one hash). */
extern _Atomic uint64_t tw__lock_bloom[TW_LOCK_BLOOM_BITS / 64];

static inline uint32_t tw_edge_slot_of(uintptr_t from, uintptr_t to, uintptr_t gate) {
  uint64_t h = (uint64_t)from * 0x9E3779B97F4A7C15ull ^ (uint64_t)to * 0xC2B2AE3D27D4EB4Full ^
               (uint64_t)gate * 0x165667B19E3779F9ull;
  return (uint32_t)(h >> 44) & (TW_EDGE_CACHE_SLOTS - 1);
}

/* The gate of the edge from held lock i: the outermost other held lock (0 if none). */
static inline uintptr_t tw_edge_gate(const struct tw_held *h, uint32_t n, uint32_t i) {
  return i ? h[0].lock : (n > 1 ? h[1].lock : 0);
}

/* Sends every edge of this acquisition that the cache does not know (and sets the cache up). */
void tw__lockorder_slow(struct tw_tls *t, uintptr_t lock, uint32_t mode, uintptr_t pc, uintptr_t sp);

/* An attempt to take `lock` in `mode` (enum tw_held_mode) by a call that can block, made at return
 * address pc with caller stack pointer sp, while t->held are held. Call it before blocking.
 * Cost when every edge is known: per held lock, one compare and one cache probe; no shared write. */
static inline void tw_lockorder_acquire(struct tw_tls *t, uintptr_t lock, uint32_t mode,
                                        uintptr_t pc, uintptr_t sp) {
  uint32_t n = t->nheld;
  if (tw_likely(n == 0)) return;
  const struct tw_held *h = t->held;
  for (uint32_t i = 0; i < n; i++)
    if (h[i].lock == lock) return; /* re-acquiring a held lock orders nothing */
  struct tw_edge_cache *c = t->ecache;
  if (tw_unlikely(c == NULL || c->gen != tw_load_relaxed(&tw__lock_gen))) {
    tw__lockorder_slow(t, lock, mode, pc, sp);
    return;
  }
  uintptr_t to = lock | mode;
  for (uint32_t i = 0; i < n; i++) {
    uintptr_t from = h[i].lock | h[i].mode, gate = tw_edge_gate(h, n, i);
    const struct tw_edge_slot *s = &c->edge[tw_edge_slot_of(from, to, gate)];
    if (tw_unlikely(s->from != from || s->to != to || s->gate != gate)) {
      tw__lockorder_slow(t, lock, mode, pc, sp);
      return;
    }
  }
}

/* `lock` is being destroyed or (re)initialised: if it is in the graph, retire it there. */
void tw__lockorder_reset_slow(uintptr_t lock);
static inline void tw_lockorder_reset(uintptr_t lock) {
  uint64_t bit = ((uint64_t)lock * 0x9E3779B97F4A7C15ull >> 40) & (TW_LOCK_BLOOM_BITS - 1);
  if (tw_unlikely(tw_load_relaxed(&tw__lock_bloom[bit / 64]) & (1ull << (bit % 64))))
    tw__lockorder_reset_slow(lock);
}

#endif
