/* The race-suspect analysis: vector clocks (happens-before from create/join, locks, condvars,
 * pipes), the lockset of each access, and the per-range shadow that finds two conflicting accesses.
 * No TLS and no hooks here: the trap side (race/trap.h) feeds it; unit tests feed it synthetic
 * sequences. */
#ifndef TW_RACE_HB_H
#define TW_RACE_HB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/limits.h"

/* Threads with a vector-clock slot at the same time. A thread takes a slot when it first does
 * something the analysis sees (a lock, a create, a trapped access) while watching is on, and gives
 * it back when it exits; the slot's clock goes on counting for the next owner (so the new thread's
 * accesses never look ordered before anything the old one did). Threads past this many are not
 * analysed (said once). 128 slots: a vector clock is 512 bytes. */
#define TW_RACE_SLOTS 128

/* Locks remembered per access (the innermost ones when a thread holds more). */
#define TW_RACE_MAX_LOCKS TW_REPORT_MAX_HELD

/* Earlier reads remembered per watched piece (one per thread, the oldest replaced). */
#define TW_RACE_SHADOW_READS 4

/* Race pairs waiting for the reporter (a pair of sites is reported once: this only has to hold the
 * pairs of one reporter tick). */
#define TW_RACE_PAIRS 256

/* Distinct pairs of access sites remembered so that each is sent once. */
#define TW_RACE_SEEN_PAIRS 4096

/* Key spaces of synchronisation objects: a lock, rwlock or condvar is its address; these tags in
 * the top bits (above any user address) name the others. */
#define TW_HB_KEY_FD (1ull << 60)     /* | the fd table's object number (both ends of one pipe) */
#define TW_HB_KEY_START (2ull << 60)  /* | thread record: the creator's release to the new thread */
#define TW_HB_KEY_EXIT (3ull << 60)   /* | thread record: the thread's end, acquired by a join */

/* --- vector-clock slots --- */

/* Takes a free slot for a new thread: its clock starts one past the slot's last clock, the rest of
 * its vector at 0. Returns the slot, or -1 when all are taken. Lock-free, async-signal-safe. */
int tw_hb_slot_claim(void);
/* Gives slot back (its thread has exited). */
void tw_hb_slot_release(int slot);
/* The slot's vector clock (owner thread only writes it; its own signal handler reads it). */
uint32_t *tw_hb_vc(int slot);
/* The slot's owner generation (an access records it with the slot). */
uint32_t tw_hb_slot_gen(int slot);
/* Slots claimed so far + 1 at most: vectors are compared up to here. */
int tw_hb_slots_used(void);

/* --- synchronisation (application threads, outside signal handlers: may allocate) --- */

/* The calling thread (slot) releases into object `key`: the object's clock takes in the thread's,
 * then the thread's own clock ticks. `readers`: an rwlock read-unlock (a later read-lock of it does
 * not acquire it, a write-lock does). */
void tw_hb_release(int slot, uint64_t key, bool readers);
/* The thread acquires object `key`: its clock takes in the object's (and with `readers`, the
 * read-unlocks' too: a write-lock of an rwlock). */
void tw_hb_acquire(int slot, uint64_t key, bool readers);
/* The object is gone (destroyed, re-initialised): its clock is dropped. */
void tw_hb_forget(uint64_t key);
/* Drops every object and frees every slot but `keep` (a forked child). */
void tw_hb_reset(int keep);
/* Objects with a clock now (statistics, tests). */
unsigned long tw_hb_objects(void);

/* --- accesses and their shadow --- */

struct tw_race_access {
  uint64_t thread;    /* T-number (registry id), 0 when unknown */
  int32_t tid;
  uint16_t slot;
  uint8_t write;      /* 1 write, 0 read */
  uint32_t sgen;      /* the slot's owner generation: (slot, sgen) names the thread */
  uint8_t nlocks;
  uint32_t epoch;     /* the thread's own clock at the access */
  uint32_t stack;     /* depot id: where */
  uintptr_t pc;       /* the access site (instruction pointer after it) */
  uintptr_t locks[TW_RACE_MAX_LOCKS];
};

struct tw_race_shadow {
  _Atomic int lock;   /* taken only by the trap handlers (never by hooks) */
  uint8_t has_write;
  uint8_t nreads;
  uint8_t next_read;  /* which read entry is replaced next */
  struct tw_race_access write;
  struct tw_race_access reads[TW_RACE_SHADOW_READS];
};

/* Whether access `a` happens before what the thread in `slot` does now (program order when it
 * is that thread's own). */
bool tw_hb_before(const struct tw_race_access *a, int slot);

/* Whether two accesses hold a lock in common. */
bool tw_race_common_lock(const struct tw_race_access *a, const struct tw_race_access *b);

/* Checks the new access `cur` (of the thread in cur->slot, at its clock now) against what the
 * shadow remembers: an earlier access by another thread, one of the two a write, with no lock in
 * common and not happening before `cur`. Returns true and copies it to *prior (the write first,
 * then the reads). Then records `cur` in the shadow. The caller holds s->lock. */
bool tw_race_shadow_check(struct tw_race_shadow *s, const struct tw_race_access *cur,
                          struct tw_race_access *prior);

/* Spin lock of a shadow. Only trap handlers take it, with every signal blocked. */
void tw_race_shadow_lock(struct tw_race_shadow *s);
void tw_race_shadow_unlock(struct tw_race_shadow *s);

/* --- pairs handed to the reporter --- */

struct tw_race_pair {
  _Atomic uint32_t state; /* 0 free, 1 being filled, 2 ready for the reporter */
  uint32_t gen;           /* bumped at each reuse: an event names the pair and its generation */
  uint32_t range;         /* index of the watched range (race/arm.c) */
  uint32_t piece;         /* which hardware piece of it */
  uintptr_t addr;         /* the piece's first byte */
  uint32_t len;           /* and its length */
  struct tw_race_access prior, cur;
};

/* A free pair (state 1, gen bumped), or NULL when all are waiting. Async-signal-safe. */
struct tw_race_pair *tw_race_pair_get(uint32_t *index);
/* The filled pair is ready. */
void tw_race_pair_ready(struct tw_race_pair *p);
/* Reporter side: pair `index` if it is ready with generation `gen`, else NULL. */
struct tw_race_pair *tw_race_pair_at(uint32_t index, uint32_t gen);
/* Reporter side: done with it. */
void tw_race_pair_free(struct tw_race_pair *p);
/* Pairs lost because none was free. */
uint64_t tw_race_pairs_lost(void);

/* Whether the pair of sites (pc1, pc2) on range `range` is seen for the first time (then it is
 * remembered). Order-independent. Lock-free, async-signal-safe. A full table answers "seen". */
bool tw_race_pair_first(uint32_t range, uintptr_t pc1, uintptr_t pc2);
/* Forgets every pair and every remembered site pair (a forked child; tests). */
void tw_race_pairs_reset(void);

#endif
