/* Race analysis state: vector-clock slots, the clocks of synchronisation objects, the shadow check
 * of each watched piece, and the pairs handed to the reporter. */
#include "race/hb.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/tw.h"

/* --- slots --- */

struct slot {
  _Atomic int used;
  uint32_t gen;        /* owners so far: an access names its thread by (slot, gen) */
  uint32_t last;       /* the clock the previous owner ended with */
  uint32_t start;      /* the current owner's first clock (last + 1 when it claimed the slot) */
  uint32_t prev_known; /* the latest clock of earlier owners of this slot the owner has acquired */
  uint32_t vc[TW_RACE_SLOTS];
};
static struct slot slots[TW_RACE_SLOTS];
static _Atomic int slots_used; /* high-water mark: vectors are walked up to here */
static _Atomic unsigned slot_cursor; /* claims go round: a slot is reused as late as possible */

int tw_hb_slot_claim(void) {
  unsigned from = tw_add_relaxed(&slot_cursor, 1);
  for (int n = 0; n < TW_RACE_SLOTS; n++) {
    int k = (int)((from + (unsigned)n) % TW_RACE_SLOTS);
    int expected = 0;
    if (tw_load_relaxed(&slots[k].used) != 0 ||
        !atomic_compare_exchange_strong(&slots[k].used, &expected, 1))
      continue;
    memset(slots[k].vc, 0, sizeof(slots[k].vc));
    slots[k].gen++;
    slots[k].start = slots[k].last + 1;
    slots[k].prev_known = 0;
    slots[k].vc[k] = slots[k].start;
    int hw = tw_load_relaxed(&slots_used);
    while (hw < k + 1 && !atomic_compare_exchange_weak(&slots_used, &hw, k + 1)) continue;
    return k;
  }
  return -1;
}

void tw_hb_slot_release(int slot) {
  if (slot < 0 || slot >= TW_RACE_SLOTS) return;
  slots[slot].last = slots[slot].vc[slot];
  tw_store_release(&slots[slot].used, 0);
}

uint32_t *tw_hb_vc(int slot) { return slots[slot].vc; }

uint32_t tw_hb_slot_gen(int slot) { return slots[slot].gen; }

int tw_hb_slots_used(void) { return tw_load_acquire(&slots_used); }

/* dst takes in src. dst is the vector of the thread in `own` (or an object's, own = -1): the own
 * entry never goes back, and what src knows of earlier owners of that slot is kept apart. */
static void join(uint32_t *dst, const uint32_t *src, int own) {
  int n = tw_hb_slots_used();
  for (int i = 0; i < n; i++) {
    if (i == own) {
      uint32_t before = slots[own].start - 1; /* clocks below start are earlier owners' */
      uint32_t k = src[i] < before ? src[i] : before;
      if (k > slots[own].prev_known) slots[own].prev_known = k;
      continue;
    }
    if (src[i] > dst[i]) dst[i] = src[i];
  }
}

bool tw_hb_before(const struct tw_race_access *a, int slot) {
  const struct slot *s = &slots[slot];
  if (a->slot != slot) return a->epoch <= s->vc[a->slot];
  if (a->sgen == s->gen) return true;  /* the same thread: program order */
  return a->epoch <= s->prev_known;    /* an earlier owner of this slot */
}

/* --- synchronisation objects --- */

#define BUCKETS 4096u

struct obj {
  uint64_t key;
  struct obj *next;
  uint32_t *readers; /* rwlock read-unlocks, NULL until the first */
  uint32_t vc[TW_RACE_SLOTS];
};

struct bucket {
  _Atomic int lock;
  struct obj *head;
};
static struct bucket buckets[BUCKETS];
static _Atomic unsigned long nobjects;

static struct bucket *bucket_of(uint64_t key) {
  uint64_t h = key * 0x9E3779B97F4A7C15ull;
  return &buckets[(h >> 40) & (BUCKETS - 1)];
}

/* A bucket lock is held for a few hundred instructions at most; no hook runs under it (the caller
 * holds the re-entrancy guard), and no signal handler takes it. */
static void spin_lock(_Atomic int *l) {
  for (unsigned n = 0;; n++) {
    int expected = 0;
    if (tw_load_relaxed(l) == 0 &&
        atomic_compare_exchange_weak_explicit(l, &expected, 1, memory_order_acquire,
                                              memory_order_relaxed))
      return;
    if (n > 64) sched_yield();
    else __builtin_ia32_pause();
  }
}

static void spin_unlock(_Atomic int *l) { tw_store_release(l, 0); }

static struct obj **find(struct bucket *b, uint64_t key) {
  struct obj **pp = &b->head;
  while (*pp && (*pp)->key != key) pp = &(*pp)->next;
  return pp;
}

void tw_hb_release(int slot, uint64_t key, bool readers) {
  if (slot < 0) return;
  struct bucket *b = bucket_of(key);
  uint32_t *vc = slots[slot].vc;
  spin_lock(&b->lock);
  struct obj **pp = find(b, key), *o = *pp;
  if (!o && (o = calloc(1, sizeof(*o)))) {
    o->key = key;
    *pp = o;
    tw_add_relaxed(&nobjects, 1);
  }
  if (o && readers && !o->readers) o->readers = calloc(TW_RACE_SLOTS, sizeof(uint32_t));
  if (o) join(readers && o->readers ? o->readers : o->vc, vc, -1);
  spin_unlock(&b->lock);
  vc[slot]++; /* accesses from now on are after this release */
}

void tw_hb_acquire(int slot, uint64_t key, bool readers) {
  if (slot < 0) return;
  struct bucket *b = bucket_of(key);
  uint32_t *vc = slots[slot].vc;
  spin_lock(&b->lock);
  struct obj *o = *find(b, key);
  if (o) {
    join(vc, o->vc, slot);
    if (readers && o->readers) join(vc, o->readers, slot);
  }
  spin_unlock(&b->lock);
}

void tw_hb_forget(uint64_t key) {
  struct bucket *b = bucket_of(key);
  spin_lock(&b->lock);
  struct obj **pp = find(b, key), *o = *pp;
  if (o) {
    *pp = o->next;
    tw_add_relaxed(&nobjects, -1ul);
  }
  spin_unlock(&b->lock);
  if (o) {
    free(o->readers);
    free(o);
  }
}

unsigned long tw_hb_objects(void) { return tw_load_relaxed(&nobjects); }

void tw_hb_reset(int keep) {
  for (unsigned i = 0; i < BUCKETS; i++) {
    struct obj *o = buckets[i].head;
    buckets[i].head = NULL;
    tw_store_relaxed(&buckets[i].lock, 0);
    while (o) {
      struct obj *next = o->next;
      free(o->readers);
      free(o);
      o = next;
    }
  }
  tw_store_relaxed(&nobjects, 0);
  for (int k = 0; k < TW_RACE_SLOTS; k++)
    if (k != keep && tw_load_relaxed(&slots[k].used)) tw_hb_slot_release(k);
}

/* --- shadow --- */

bool tw_race_common_lock(const struct tw_race_access *a, const struct tw_race_access *b) {
  for (unsigned i = 0; i < a->nlocks; i++)
    for (unsigned j = 0; j < b->nlocks; j++)
      if (a->locks[i] == b->locks[j]) return true;
  return false;
}

/* A conflict: another thread, at least one write, no common lock, no happens-before. */
static bool conflicts(const struct tw_race_access *old, const struct tw_race_access *cur) {
  if (!old->write && !cur->write) return false;
  if (tw_hb_before(old, cur->slot)) return false; /* the same thread included */
  return !tw_race_common_lock(old, cur);
}

bool tw_race_shadow_check(struct tw_race_shadow *s, const struct tw_race_access *cur,
                          struct tw_race_access *prior) {
  bool found = false;
  if (s->has_write && conflicts(&s->write, cur)) {
    *prior = s->write;
    found = true;
  }
  if (!found && cur->write) {
    for (unsigned i = 0; i < s->nreads; i++) {
      if (conflicts(&s->reads[i], cur)) {
        *prior = s->reads[i];
        found = true;
        break;
      }
    }
  }
  if (cur->write) {
    s->write = *cur;
    s->has_write = 1;
    s->nreads = 0; /* earlier reads either happen before this write or were just reported */
    s->next_read = 0;
  } else {
    unsigned i = 0;
    while (i < s->nreads && !(s->reads[i].slot == cur->slot && s->reads[i].sgen == cur->sgen)) i++;
    if (i == s->nreads) {
      if (s->nreads < TW_RACE_SHADOW_READS) {
        s->nreads++;
      } else {
        i = s->next_read;
        s->next_read = (uint8_t)((s->next_read + 1) % TW_RACE_SHADOW_READS);
      }
    }
    s->reads[i] = *cur;
  }
  return found;
}

void tw_race_shadow_lock(struct tw_race_shadow *s) {
  for (;;) {
    int expected = 0;
    if (atomic_compare_exchange_weak_explicit(&s->lock, &expected, 1, memory_order_acquire,
                                              memory_order_relaxed))
      return;
    __builtin_ia32_pause();
  }
}

void tw_race_shadow_unlock(struct tw_race_shadow *s) { tw_store_release(&s->lock, 0); }

/* --- pairs --- */

static struct tw_race_pair pairs[TW_RACE_PAIRS];
static _Atomic uint32_t pair_next;
static _Atomic uint64_t pairs_lost;

struct tw_race_pair *tw_race_pair_get(uint32_t *index) {
  uint32_t start = tw_add_relaxed(&pair_next, 1);
  for (uint32_t k = 0; k < TW_RACE_PAIRS; k++) {
    uint32_t i = (start + k) % TW_RACE_PAIRS;
    uint32_t expected = 0;
    if (tw_load_relaxed(&pairs[i].state) != 0 ||
        !atomic_compare_exchange_strong(&pairs[i].state, &expected, 1))
      continue;
    pairs[i].gen++;
    *index = i;
    return &pairs[i];
  }
  tw_add_relaxed(&pairs_lost, 1);
  return NULL;
}

void tw_race_pair_ready(struct tw_race_pair *p) {
  tw_store_release(&p->state, 2); /* partner: the acquire load in tw_race_pair_at */
}

struct tw_race_pair *tw_race_pair_at(uint32_t index, uint32_t gen) {
  if (index >= TW_RACE_PAIRS) return NULL;
  struct tw_race_pair *p = &pairs[index];
  if (tw_load_acquire(&p->state) != 2 || p->gen != gen) return NULL;
  return p;
}

void tw_race_pair_free(struct tw_race_pair *p) { tw_store_release(&p->state, 0); }

uint64_t tw_race_pairs_lost(void) { return tw_load_relaxed(&pairs_lost); }

static _Atomic uint64_t seen[TW_RACE_SEEN_PAIRS];

bool tw_race_pair_first(uint32_t range, uintptr_t pc1, uintptr_t pc2) {
  uintptr_t lo = pc1 < pc2 ? pc1 : pc2, hi = pc1 < pc2 ? pc2 : pc1;
  uint64_t h = ((uint64_t)lo * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)hi * 0xC2B2AE3D27D4EB4Full) ^
               ((uint64_t)range * 0x165667B19E3779F9ull);
  h ^= h >> 31;
  if (h == 0) h = 1;
  for (unsigned k = 0; k < 64; k++) {
    _Atomic uint64_t *e = &seen[(h + k) & (TW_RACE_SEEN_PAIRS - 1)];
    uint64_t cur = tw_load_relaxed(e);
    if (cur == h) return false;
    if (cur == 0) {
      uint64_t expected = 0;
      if (atomic_compare_exchange_strong(e, &expected, h)) return true;
      if (expected == h) return false;
    }
  }
  return false;
}

void tw_race_pairs_reset(void) {
  for (unsigned i = 0; i < TW_RACE_PAIRS; i++) tw_store_relaxed(&pairs[i].state, 0);
  for (unsigned i = 0; i < TW_RACE_SEEN_PAIRS; i++) tw_store_relaxed(&seen[i], 0);
}
