/* Single-producer single-consumer event ring: the owning thread pushes, the reporter drains. */
#ifndef TW_RING_H
#define TW_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/atomic.h"
#include "runtime/event.h"
#include "base/limits.h"
#include "base/tw.h"

/* One segment of a thread's ring. A thread's first segment holds TW_RING_FIRST_SLOTS events (one
 * page); when it fills, the producer moves to a segment twice as big (up to TW_RING_SLOTS) and
 * links it from the old one, which the consumer drains and then frees (runtime/registry.c). A thread that
 * sends a few events keeps one page; a chatty one at most TW_RING_SLOTS slots. */
typedef struct tw_ring {
  /* Written by the producer only; the release store pairs with the acquire in tw_ring_drain. */
  _Atomic uint64_t head;
  /* Events lost because the ring was full. Producer-written, reporter-read (relaxed: a counter). */
  _Atomic uint64_t dropped;
  /* The segment the producer moved to when this one filled (set once, by the producer, after its
   * last push here; release, partner: the acquire load in the consumer's drain). */
  struct tw_ring *_Atomic next;
  uint32_t mask; /* slots - 1 (a power of two); fixed at init */
  char pad1[64 - 3 * sizeof(uint64_t) - sizeof(uint32_t)];
  /* Written by the consumer only; the release store pairs with the acquire in tw_ring_push. */
  _Atomic uint64_t tail;
  char pad2[64 - sizeof(uint64_t)];
  struct tw_event slot[];
} tw_ring_t;

/* Bytes of a segment of `slots` events. */
static inline size_t tw_ring_bytes(uint32_t slots) {
  return sizeof(tw_ring_t) + sizeof(struct tw_event) * slots;
}

/* Makes r (tw_ring_bytes(slots) bytes) an empty segment of `slots` events (a power of two). */
void tw_ring_init(tw_ring_t *r, uint32_t slots);

static inline uint32_t tw_ring_slots(const tw_ring_t *r) { return r->mask + 1; }

/* Producer side. Returns true if the event was queued, false if the segment was full (the drop is
 * counted). Never blocks. Cost: two loads, a 40-byte copy, one release store. */
static inline bool tw_ring_push(tw_ring_t *r, const struct tw_event *ev) {
  uint64_t head = tw_load_relaxed(&r->head);
  uint64_t tail = tw_load_acquire(&r->tail); /* partner: release store of tail in tw_ring_drain */
  if (tw_unlikely(head - tail > r->mask)) {
    tw_store_relaxed(&r->dropped, tw_load_relaxed(&r->dropped) + 1);
    return false;
  }
  r->slot[head & r->mask] = *ev;
  tw_store_release(&r->head, head + 1); /* partner: acquire load of head in tw_ring_drain */
  return true;
}

/* Producer side: counts an event that could not be queued anywhere. */
static inline void tw_ring_count_drop(tw_ring_t *r) {
  tw_store_relaxed(&r->dropped, tw_load_relaxed(&r->dropped) + 1);
}

/* Producer side: is there room for one more event right now? */
static inline bool tw_ring_has_room(tw_ring_t *r) {
  return tw_load_relaxed(&r->head) - tw_load_acquire(&r->tail) <= r->mask;
}

/* Consumer side: calls fn(ev, ctx) for every queued event, oldest first. Returns the count. */
uint64_t tw_ring_drain(tw_ring_t *r, void (*fn)(const struct tw_event *ev, void *ctx), void *ctx);

/* Consumer wake-up shared by all rings: a producer whose ring is full calls tw_ring_nudge() (async-
 * signal-safe: one atomic exchange and at most one futex wake); the consumer sleeps in
 * tw_ring_wait_nudge() for at most timeout_ns or until nudged. */
void tw_ring_nudge(void);
void tw_ring_wait_nudge(uint64_t timeout_ns);

static inline uint64_t tw_ring_dropped(const tw_ring_t *r) {
  return tw_load_relaxed(&((tw_ring_t *)r)->dropped);
}

#endif
