/* The feeders of semaphores and futex addresses (feeders.h), reporter side. */
#include "runtime/feeders.h"

#include <stdlib.h>

#include <uthash.h>

#include "base/limits.h"

_Atomic uint32_t tw__feed_gen;

/* Bounded: past TW_FEEDERS_MAX objects the oldest facts are forgotten, which only turns a later
 * deadlock on that object into "anyone could post it" (reported when everyone is stuck). */
struct feed {
  uintptr_t obj;
  uint8_t n;                               /* distinct threads, TW_FD_FACT_THREADS + 1 = more */
  uint64_t who[TW_FD_FACT_THREADS];
  uint64_t last;
  UT_hash_handle hh;
};
static struct feed *feeds;
static size_t nfeeds;

static struct feed *find(uintptr_t obj) {
  struct feed *f = NULL;
  HASH_FIND(hh, feeds, &obj, sizeof(obj), f);
  return f;
}

static void forget(struct feed *f) {
  HASH_DEL(feeds, f);
  free(f);
  nfeeds--;
}

void tw_feeders_on_event(const struct tw_event *ev, uint64_t thread) {
  uintptr_t obj = (uintptr_t)ev->a;
  struct feed *f = find(obj);
  if (ev->type == TW_EV_FEED_RESET) {
    if (f) forget(f);
    return;
  }
  if (ev->type != TW_EV_FEED) return;
  if (!f) {
    if (nfeeds >= TW_FEEDERS_MAX) forget(feeds); /* the oldest (the hash keeps insertion order) */
    if (!(f = calloc(1, sizeof(*f)))) return;
    f->obj = obj;
    HASH_ADD(hh, feeds, obj, sizeof(uintptr_t), f);
    nfeeds++;
  }
  f->last = thread;
  for (unsigned i = 0; i < f->n && i < TW_FD_FACT_THREADS; i++)
    if (f->who[i] == thread) return;
  if (f->n < TW_FD_FACT_THREADS) f->who[f->n] = thread;
  if (f->n <= TW_FD_FACT_THREADS) f->n++;
}

unsigned tw_feeders_threads(uintptr_t obj, uint64_t *ids, unsigned max, uint64_t *last) {
  const struct feed *f = find(obj);
  if (last) *last = f ? f->last : 0;
  if (!f) return 0;
  for (unsigned i = 0; i < f->n && i < TW_FD_FACT_THREADS && i < max; i++) ids[i] = f->who[i];
  return f->n;
}

void tw_feeders_reset(void) {
  struct feed *f, *tmp;
  HASH_ITER(hh, feeds, f, tmp) forget(f);
}

void tw_feeders_after_fork_child(bool consistent) {
  tw_add_relaxed(&tw__feed_gen, 1); /* the forking thread's memo named the parent's facts */
  if (consistent) tw_feeders_reset();
  else {
    feeds = NULL;
    nfeeds = 0;
  }
}
