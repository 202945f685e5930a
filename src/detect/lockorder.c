/* Lock-order hook side, slow paths: fill the edge cache, capture the two stacks of a new edge (cached
 * per acquisition site), send it to the reporter without ever dropping it silently. */
#include "detect/lockorder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/event.h"
#include "detect/dispatch.h"
#include "runtime/engine.h"
#include "runtime/registry.h"
#include "runtime/stackdepot.h"

_Atomic uint64_t tw__lock_gen;
_Atomic uint32_t tw__lock_seq;
_Atomic uint64_t tw__lock_bloom[TW_LOCK_BLOOM_BITS / 64];

static void bloom_add(uintptr_t lock) {
  uint64_t bit = ((uint64_t)lock * 0x9E3779B97F4A7C15ull >> 40) & (TW_LOCK_BLOOM_BITS - 1);
  if (!(tw_load_relaxed(&tw__lock_bloom[bit / 64]) & (1ull << (bit % 64))))
    atomic_fetch_or_explicit(&tw__lock_bloom[bit / 64], 1ull << (bit % 64), memory_order_relaxed);
}

static struct tw_site_slot *site_slot(struct tw_edge_cache *c, uintptr_t pc, uintptr_t sp) {
  uint64_t h = (uint64_t)pc * 0x9E3779B97F4A7C15ull ^ (uint64_t)sp * 0xC2B2AE3D27D4EB4Full;
  return &c->site[(h >> 48) & (TW_SITE_CACHE_SLOTS - 1)];
}

/* The stack of the acquisition happening now at (pc, sp): captured once per site. */
static uint32_t stack_now(struct tw_edge_cache *c, uintptr_t pc, uintptr_t sp) {
  struct tw_site_slot *s = site_slot(c, pc, sp);
  if (s->pc == pc && s->sp == sp && s->stack) return s->stack;
  uint32_t id = tw_stack_capture();
  *s = (struct tw_site_slot){pc, sp, id};
  return id;
}

/* The stack of an earlier acquisition at (pc, sp) of a lock still held. */
static uint32_t stack_then(struct tw_edge_cache *c, uintptr_t pc, uintptr_t sp) {
  struct tw_site_slot *s = site_slot(c, pc, sp);
  if (s->pc == pc && s->sp == sp && s->stack) return s->stack;
  uint32_t id = tw_stack_capture_earlier(pc, sp);
  *s = (struct tw_site_slot){pc, sp, id};
  return id;
}

/* Makes sure `lock`'s node is this lock's (lockorder.h: identity across memory reuse): a lock
 * without its tag is a new one at that address; if the address may be in the graph, its old node is
 * retired (an event ordered before the edges that follow), then the tag is written. Guard held. */
static void ensure_identity(struct tw_thread *self, uintptr_t lock, uint32_t mode) {
  _Atomic uintptr_t *w = tw_lock_tag_word(lock, mode);
  if (!w || tw_load_relaxed(w) == tw_lock_tag(lock)) return;
  if (tw_lockorder_maybe_known(lock)) {
    tw_add_relaxed(&tw__lock_gen, 1);
    struct tw_event ev = {.type = TW_EV_LOCK_RESET, .a = lock,
                          .aux32 = tw_add_relaxed(&tw__lock_seq, 1)};
    tw_ring_push_wait(self, &ev);
  }
  tw_store_relaxed(w, tw_lock_tag(lock));
}

bool tw__lockorder_slow(struct tw_tls *t, uintptr_t lock, uint32_t mode, uintptr_t pc,
                        uintptr_t sp) {
  int saved = errno;
  struct tw_thread *self = t->self;
  tw_guard_enter(t);
  struct tw_edge_cache *c = t->ecache;
  if (!c) c = t->ecache = calloc(1, sizeof(*c));
  bool all_sent = c != NULL && self != NULL;
  if (!all_sent) goto out;
  uint32_t n = t->nheld;
  const struct tw_held *h = t->held;
  ensure_identity(self, lock, mode);
  for (uint32_t i = 0; i < n; i++) ensure_identity(self, h[i].lock, h[i].mode);
  uint64_t gen = tw_load_relaxed(&tw__lock_gen);
  uintptr_t to = lock | mode;
  for (uint32_t i = 0; i < n; i++)
    if (h[i].lock == lock) goto remember; /* re-acquiring a held lock orders nothing */
  for (uint32_t i = 0; i < n; i++) {
    uintptr_t from = h[i].lock | h[i].mode, gate = tw_edge_gate(h, n, i);
    struct tw_edge_slot *s = &c->edge[tw_edge_slot_of(from, to, gate)];
    if (s->from == from && s->to == to && s->gate == gate && s->gen == gen) continue;
    struct tw_event ev = {
        .type = TW_EV_LOCK_EDGE,
        .flags = (uint8_t)((h[i].mode == TW_HELD_READ ? TW_EVF_FROM_READ : 0) |
                           (h[i].mode != TW_HELD_MUTEX ? TW_EVF_FROM_RWLOCK : 0) |
                           (mode == TW_HELD_READ ? TW_EVF_TO_READ : 0) |
                           (mode != TW_HELD_MUTEX ? TW_EVF_TO_RWLOCK : 0)),
        .a = h[i].lock,
        .b = lock,
        .c = gate,
        .stack = stack_now(c, pc, sp),
        .stack2 = stack_then(c, h[i].pc, h[i].sp),
        .aux32 = tw_add_relaxed(&tw__lock_seq, 1),
    };
    /* An edge that could not be queued stays out of the cache: the next acquisition sends it
     * again, so no edge is lost for good, and the drop is counted. */
    if (tw_ring_push_wait(self, &ev)) {
      *s = (struct tw_edge_slot){from, to, gate, gen};
      bloom_add(h[i].lock);
      bloom_add(lock);
    } else {
      all_sent = false;
    }
  }
  if (!tw_engine_running()) tw_detect_drain_inline(); /* no consumer thread: apply them now */
remember:
  if (all_sent) {
    uint64_t sig = tw_held_sig(t);
    c->set[tw_set_slot_of(sig, to)] = (struct tw_set_slot){sig, to, h[0].lock, gen};
  }
out:
  tw_guard_leave(t);
  errno = saved;
  return all_sent;
}

void tw__lockorder_reset_slow(uintptr_t lock) {
  struct tw_tls *t = tw_tls();
  if (t->guard || t->gone) return;
  int saved = errno;
  struct tw_thread *self = t->self;
  tw_guard_enter(t);
  tw_add_relaxed(&tw__lock_gen, 1);
  struct tw_event ev = {.type = TW_EV_LOCK_RESET, .a = lock,
                        .aux32 = tw_add_relaxed(&tw__lock_seq, 1)};
  if (self) tw_ring_push_wait(self, &ev);
  if (!tw_engine_running()) tw_detect_drain_inline();
  tw_guard_leave(t);
  errno = saved;
}

void tw__lockorder_init_site(uintptr_t lock, uintptr_t pc) {
  struct tw_tls *t = tw_tls();
  if (t->guard || t->gone) return;
  int saved = errno;
  struct tw_thread *self = t->self;
  tw_guard_enter(t);
  struct tw_event ev = {.type = TW_EV_LOCK_INIT, .a = lock, .c = pc,
                        .aux32 = tw_add_relaxed(&tw__lock_seq, 1)};
  if (self) tw_ring_push_wait(self, &ev);
  if (!tw_engine_running()) tw_detect_drain_inline();
  tw_guard_leave(t);
  errno = saved;
}
