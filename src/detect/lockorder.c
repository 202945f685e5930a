/* Lock-order hook side, slow paths: fill the edge caches, capture the two stacks of a new edge
 * (cached per acquisition site), send it to the reporter without ever dropping it silently. */
#include "detect/lockorder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* --- the process-wide table of facts already sent -------------------------------------------- */

/* Fingerprints of "this edge was sent" and "every edge from this held set into this lock was sent",
 * each mixed with the lock generation it holds for (a destroy or re-init makes them misses, as in
 * the per-thread cache). Direct-mapped, written by whichever thread sent the fact, after its event was
 * queued: a hit means the reporter will see (or saw) the edge. An overwrite only costs a re-send;
 * a false hit needs a 64-bit fingerprint collision. */
static _Atomic uint64_t *_Atomic known;

static uint64_t mix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  return k ^ (k >> 33);
}

static uint64_t fact_fp(uint64_t a, uint64_t b, uint64_t c, uint64_t gen, uint64_t kind) {
  uint64_t h = mix64(a ^ kind);
  h = mix64(h ^ b);
  h = mix64(h ^ c);
  h = mix64(h ^ gen);
  return h | 1; /* never 0 (empty) */
}

static _Atomic uint64_t *known_table(bool create) {
  _Atomic uint64_t *k = tw_load_acquire(&known); /* partner: the release CAS below */
  if (tw_likely(k != NULL) || !create) return k;
  void *m = mmap(NULL, sizeof(uint64_t) * TW_EDGE_KNOWN_SLOTS, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return NULL;
  _Atomic uint64_t *expected = NULL;
  if (!atomic_compare_exchange_strong(&known, &expected, (_Atomic uint64_t *)m)) {
    munmap(m, sizeof(uint64_t) * TW_EDGE_KNOWN_SLOTS);
    return expected;
  }
  return (_Atomic uint64_t *)m;
}

/* Buckets of 4 slots (32 bytes: one cache line probe), so that facts whose buckets collide do
 * not evict each other at once (memcached's 4,096 item locks, each under several others, make
 * tens of thousands of facts). */
#define KNOWN_WAYS 4u

static _Atomic uint64_t *known_bucket(_Atomic uint64_t *k, uint64_t fp) {
  return &k[((fp >> 20) & (TW_EDGE_KNOWN_SLOTS / KNOWN_WAYS - 1)) * KNOWN_WAYS];
}

static bool known_has(uint64_t fp) {
  _Atomic uint64_t *k = known_table(false);
  if (!k) return false;
  _Atomic uint64_t *b = known_bucket(k, fp);
  for (uint32_t i = 0; i < KNOWN_WAYS; i++)
    if (tw_load_relaxed(&b[i]) == fp) return true;
  return false;
}

static void known_put(uint64_t fp) {
  _Atomic uint64_t *k = known_table(true);
  if (!k) return;
  _Atomic uint64_t *b = known_bucket(k, fp);
  for (uint32_t i = 0; i < KNOWN_WAYS; i++) {
    uint64_t v = tw_load_relaxed(&b[i]);
    if (v == fp) return;
    if (v == 0) { /* two threads may fill it at once: one fact is lost, which costs a re-send */
      tw_store_relaxed(&b[i], fp);
      return;
    }
  }
  tw_store_relaxed(&b[(fp >> 8) & (KNOWN_WAYS - 1)], fp);
}

#define FACT_EDGE 0x6564676500000000ull
#define FACT_SET 0x7365740000000000ull

/* --- the per-thread cache --------------------------------------------------------------------- */

static struct tw_edge_cache *cache_new(uint32_t slots) {
  uint32_t sites = slots / 2;
  size_t bytes = sizeof(struct tw_edge_cache) + slots * (sizeof(struct tw_set_slot) +
                                                          sizeof(struct tw_edge_slot)) +
                 sites * sizeof(struct tw_site_slot);
  struct tw_edge_cache *c = calloc(1, bytes);
  if (!c) return NULL;
  c->mask = slots - 1;
  c->site_mask = sites - 1;
  c->set = (struct tw_set_slot *)(c + 1);
  c->edge = (struct tw_edge_slot *)(c->set + slots);
  c->site = (struct tw_site_slot *)(c->edge + slots);
  return c;
}

/* Valid entries keep being replaced: the thread's working set outgrew the tables. They double,
 * keeping what is still valid. */
static struct tw_edge_cache *cache_grow(struct tw_edge_cache *c, uint64_t gen) {
  uint32_t slots = (c->mask + 1) * 2;
  struct tw_edge_cache *n = cache_new(slots);
  if (!n) return c;
  for (uint32_t i = 0; i <= c->mask; i++) {
    const struct tw_set_slot *s = &c->set[i];
    if (s->to && s->gen == gen) n->set[tw_set_slot_of(s->sig, s->to, n->mask)] = *s;
    const struct tw_edge_slot *e = &c->edge[i];
    if (e->to && e->gen == gen) n->edge[tw_edge_slot_of(e->from, e->to, e->gate, n->mask)] = *e;
  }
  free(c);
  return n;
}

/* An entry about to be overwritten that still held a fact of this generation. */
static inline void note_eviction(struct tw_edge_cache *c, uintptr_t old_to, uint64_t old_gen,
                                 uint64_t gen) {
  if (old_to && old_gen == gen) c->evicted++;
}

static struct tw_site_slot *site_slot(struct tw_edge_cache *c, uintptr_t pc, uintptr_t sp) {
  uint64_t h = (uint64_t)pc * 0x9E3779B97F4A7C15ull ^ (uint64_t)sp * 0xC2B2AE3D27D4EB4Full;
  return &c->site[(h >> 48) & c->site_mask];
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
 * retired (an event ordered before the edges that follow), then the tag is written. The reporter
 * makes the caches stale (tw__lock_gen) only if the address really was in the graph: the Bloom
 * filter says "maybe" for most fresh locks once it fills, and a bump per fresh lock made every
 * known edge of the process be sent again (bench buckets1m: 26x). Until the reporter has seen
 * the event, an edge into the new lock that a cache still knows is not sent; the next acquisition
 * after the bump sends it. Guard held. */
static void ensure_identity(struct tw_thread *self, uintptr_t lock, uint32_t mode) {
  _Atomic uintptr_t *w = tw_lock_tag_word(lock, mode);
  if (!w || tw_load_relaxed(w) == tw_lock_tag(lock)) return;
  if (tw_lockorder_maybe_known(lock)) {
    struct tw_event ev = {.type = TW_EV_LOCK_RESET, .aux = 1, .a = lock,
                          .aux32 = tw_add_relaxed(&tw__lock_seq, 1)};
    tw_ring_push_wait(self, &ev);
  }
  tw_store_relaxed(w, tw_lock_tag(lock));
}

/* Sends the edge held[i] -> lock unless this thread's cache or the process-wide table says it was
 * sent. False when it could not be queued (it stays out of both: the next acquisition sends it
 * again, so no edge is lost for good, and the drop is counted). */
static bool send_edge(struct tw_tls *t, struct tw_thread *self, struct tw_edge_cache *c,
                      uint64_t gen, uintptr_t lock, uint32_t mode, uint32_t i, uintptr_t pc,
                      uintptr_t sp) {
  const struct tw_held *h = t->held;
  uint32_t n = t->nheld;
  uintptr_t from = h[i].lock | h[i].mode, to = lock | mode, gate = tw_edge_gate(h, n, i);
  struct tw_edge_slot *s = &c->edge[tw_edge_slot_of(from, to, gate, c->mask)];
  if (s->from == from && s->to == to && s->gate == gate && s->gen == gen) return true;
  uint64_t fp = fact_fp(from, to, gate, gen, FACT_EDGE);
  bool sent = known_has(fp);
  if (!sent) {
    ensure_identity(self, h[i].lock, h[i].mode); /* a new lock at an old one's address: retired */
    struct tw_event ev = {
        .type = TW_EV_LOCK_EDGE,
        .flags = (uint8_t)((h[i].mode == TW_HELD_READ ? TW_EVF_FROM_READ : 0) |
                           (h[i].mode == TW_HELD_READ || h[i].mode == TW_HELD_WRITE
                                ? TW_EVF_FROM_RWLOCK
                                : 0) |
                           (h[i].mode == TW_HELD_SPIN ? TW_EVF_FROM_SPIN : 0) |
                           (mode == TW_HELD_READ ? TW_EVF_TO_READ : 0) |
                           (mode == TW_HELD_READ || mode == TW_HELD_WRITE ? TW_EVF_TO_RWLOCK : 0) |
                           (mode == TW_HELD_SPIN ? TW_EVF_TO_SPIN : 0)),
        .a = h[i].lock,
        .b = lock,
        .c = gate,
        .stack = stack_now(c, pc, sp),
        .stack2 = stack_then(c, h[i].pc, h[i].sp),
        .aux32 = tw_add_relaxed(&tw__lock_seq, 1),
    };
    if (!tw_ring_push_wait(self, &ev)) return false;
    bloom_add(h[i].lock);
    bloom_add(lock);
    known_put(fp);
  }
  note_eviction(c, s->to, s->gen, gen);
  *s = (struct tw_edge_slot){from, to, gate, gen};
  return true;
}

/* Whether the acquisition walks on down past held entry i without counting it: a lock held shared
 * leads nowhere by itself, and one taken by trylock got no edge into it when it was taken. */
static inline bool walk_through(const struct tw_held *h) {
  return h->mode == TW_HELD_READ || (h->plain & TW_HELD_BY_TRYLOCK);
}

bool tw__lockorder_slow(struct tw_tls *t, uintptr_t lock, uint32_t mode, uintptr_t pc,
                        uintptr_t sp) {
  int saved = errno;
  struct tw_thread *self = t->self;
  tw_guard_enter(t);
  struct tw_edge_cache *c = t->ecache;
  if (!c) c = t->ecache = cache_new(TW_EDGE_CACHE_FIRST_SLOTS);
  bool all_sent = c != NULL && self != NULL;
  if (!all_sent) goto out;
  uint32_t n = t->nheld;
  const struct tw_held *h = t->held;
  /* The acquired lock's identity first; a held one's just before an edge from it is sent. */
  ensure_identity(self, lock, mode);
  uint64_t gen = tw_load_relaxed(&tw__lock_gen);
  uintptr_t to = lock | mode;
  uint64_t sig = tw_held_sig(t);
  uint64_t set_fp = fact_fp(sig, to, h[0].lock, gen, FACT_SET);
  if (known_has(set_fp)) goto remember; /* another thread sent them all with this held set */
  if (tw_held_find(t, lock, -1)) goto remember; /* re-acquiring a held lock orders nothing */
  /* Not one edge per held lock (N^2/2 edges for N held locks, and as many ring events), but:
   *  - the chain: edges from the TW_EDGE_DEPTH innermost held locks, and on down through locks
   *    that got no edge into them (trylocks) or are held shared. Every lock further down reaches
   *    the innermost one through the chain edges sent when the locks above it were taken, so the
   *    graph's reachability, and with it the set of cycles, is the same as with every edge;
   *  - "skip" edges from the locks 2^k deep (k >= 4) and from the outermost one, so that a cycle
   *    through a deep stack is reported through a few locks, not a chain of N / TW_EDGE_DEPTH.
   * O(TW_EDGE_DEPTH + log N) edges per acquisition, like lockdep's bounded chains. */
  uint32_t i = n, direct = 0;
  while (i > 0) {
    i--;
    all_sent &= send_edge(t, self, c, gen, lock, mode, i, pc, sp);
    if (!walk_through(&h[i]) && ++direct >= TW_EDGE_DEPTH) break;
  }
  for (uint64_t d = 16; d < n; d *= 2)
    if (n - 1 - d < i)
      all_sent &= send_edge(t, self, c, gen, lock, mode, (uint32_t)(n - 1 - d), pc, sp);
  if (i > 0) all_sent &= send_edge(t, self, c, gen, lock, mode, 0, pc, sp);
  if (!tw_engine_running()) tw_detect_drain_inline(); /* no consumer thread: apply them now */
  if (all_sent) known_put(set_fp);
remember:
  if (all_sent) {
    struct tw_set_slot *s = &c->set[tw_set_slot_of(sig, to, c->mask)];
    note_eviction(c, s->to, s->gen, gen);
    *s = (struct tw_set_slot){sig, to, h[0].lock, gen};
    if (tw_unlikely(c->evicted > 4 * (c->mask + 1)) && c->mask + 1 < TW_EDGE_CACHE_SLOTS) {
      t->ecache = cache_grow(c, gen);
      t->ecache->evicted = 0;
    }
  }
out:
  tw_guard_leave(t);
  errno = saved;
  return all_sent;
}

void tw__lockorder_thread_exit(struct tw_tls *t) {
  free(t->ecache);
  t->ecache = NULL;
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
