/* The thread registry: records of application threads, their lifecycle, names and wait states. */
#include "runtime/registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/real.h"
#include "runtime/fork.h"
#include "runtime/stackdepot.h"
#include "base/stats.h"
#include "runtime/tls.h"
#include "base/tw.h"

/* Guards the lists, the handle table, `join` and `name`. Never held across a call that can block on
 * anything but this lock, never held while calling application code (hazard 5). */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tw_thread *live_head;   /* every record not yet reaped */
static struct tw_thread *dead_head;   /* exited and joined/detached: freed by the reporter */
static struct tw_thread *by_handle;   /* uthash: joinable/detachable handles */
static _Atomic uint64_t next_id = 2; /* 1 is the initial thread */
static uint64_t n_created, n_exited, n_live;
static uint64_t reaped_dropped;       /* drop counts of freed records */

void tw_registry_lock(void) {
  tw_fork_check();
  TW_REAL_FN(pthread_mutex_lock)(&reg_lock);
}
void tw_registry_unlock(void) { TW_REAL_FN(pthread_mutex_unlock)(&reg_lock); }

static void list_push(struct tw_thread **head, struct tw_thread *t) {
  tw_check(t->list == TW_LIST_NONE); /* never in two lists: that would corrupt both */
  t->list = head == &live_head ? TW_LIST_LIVE : TW_LIST_DEAD;
  t->prev = NULL;
  t->next = *head;
  if (*head) (*head)->prev = t;
  *head = t;
}

static void list_unlink(struct tw_thread **head, struct tw_thread *t) {
  tw_check(t->list == (head == &live_head ? TW_LIST_LIVE : TW_LIST_DEAD));
  t->list = TW_LIST_NONE;
  if (t->prev) t->prev->next = t->next;
  else *head = t->next;
  if (t->next) t->next->prev = t->prev;
  t->prev = t->next = NULL;
}

/* Reaped threads, remembered by id for later reports (registry lock). */
static struct tw_thread_snap graveyard[TW_GRAVEYARD];
static uint64_t graveyard_next;

static void snap_one(const struct tw_thread *t, struct tw_thread_snap *s);

static void graveyard_add(const struct tw_thread *t) {
  struct tw_thread_snap *g = &graveyard[graveyard_next++ % TW_GRAVEYARD];
  snap_one(t, g);
  g->wait.call = TW_CALL_NONE;
}

/* First segments come from one slab reserved at the first use (address space only: a page is
 * resident once a thread has used it, and stays so for the next thread), with a bitmap of the ones
 * in use. A thread-per-request program would otherwise map and unmap a page per thread, and every
 * munmap in a process with many threads is a TLB shootdown on every CPU. Lock-free (a bit is taken
 * and given back with one atomic operation), so that a push from a signal handler can take one.
 * Past TW_RING_SLAB first segments alive at once, and for the bigger segments, mmap and munmap. */
#define TW_RING_SLAB 16384u
#define TW_RING_FIRST_BYTES 4096u /* tw_ring_bytes(TW_RING_FIRST_SLOTS), rounded to a page */
_Static_assert(sizeof(tw_ring_t) + sizeof(struct tw_event) * TW_RING_FIRST_SLOTS <=
                   TW_RING_FIRST_BYTES, "a first ring segment fits one page");
static char *_Atomic slab;
static _Atomic uint64_t slab_used[TW_RING_SLAB / 64];
/* No word below this one has a free bit (a hint, kept low: the lowest free segments are taken
 * first, so the pages ever touched are as many as the most rings alive at once). */
static _Atomic uint32_t slab_low;

static char *slab_base(void) {
  char *b = tw_load_acquire(&slab); /* partner: the release CAS below */
  if (tw_likely(b != NULL)) return b;
  void *m = mmap(NULL, (size_t)TW_RING_SLAB * TW_RING_FIRST_BYTES, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return NULL;
  char *expected = NULL;
  if (!atomic_compare_exchange_strong(&slab, &expected, (char *)m)) {
    munmap(m, (size_t)TW_RING_SLAB * TW_RING_FIRST_BYTES); /* another thread won */
    return expected;
  }
  return (char *)m;
}

static tw_ring_t *slab_take(void) {
  char *b = slab_base();
  if (!b) return NULL;
  for (uint32_t w = tw_load_relaxed(&slab_low); w < TW_RING_SLAB / 64; w++) {
    uint64_t used = tw_load_relaxed(&slab_used[w]);
    while (used != UINT64_MAX) {
      uint64_t bit = ~used & (used + 1); /* the lowest free one */
      used = atomic_fetch_or_explicit(&slab_used[w], bit, memory_order_acquire);
      if (!(used & bit)) {
        if (used == UINT64_MAX - bit) { /* this word is full now: the hint may move past it */
          uint32_t low = w;
          atomic_compare_exchange_strong(&slab_low, &low, w + 1);
        }
        return (tw_ring_t *)(b + ((size_t)w * 64 + (size_t)__builtin_ctzll(bit)) *
                                     TW_RING_FIRST_BYTES);
      }
    }
  }
  return NULL;
}

static bool slab_give(tw_ring_t *r) {
  char *b = tw_load_relaxed(&slab);
  if (!b || (char *)r < b || (char *)r >= b + (size_t)TW_RING_SLAB * TW_RING_FIRST_BYTES)
    return false;
  size_t i = (size_t)((char *)r - b) / TW_RING_FIRST_BYTES;
  uint32_t w = (uint32_t)(i / 64);
  atomic_fetch_and_explicit(&slab_used[w], ~(1ull << (i % 64)), memory_order_release);
  uint32_t low = tw_load_relaxed(&slab_low);
  while (w < low && !atomic_compare_exchange_weak(&slab_low, &low, w)) {
  }
  return true;
}

static tw_ring_t *ring_map(uint32_t slots) {
  tw_ring_t *r = slots == TW_RING_FIRST_SLOTS ? slab_take() : NULL;
  if (!r) {
    void *m = mmap(NULL, tw_ring_bytes(slots), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED) return NULL;
    r = m;
  }
  tw_ring_init(r, slots);
  return r;
}

static void ring_unmap(tw_ring_t *r) {
  if (!slab_give(r)) munmap(r, tw_ring_bytes(tw_ring_slots(r)));
}

/* Frees the segments of a ring chain from r on; returns their drop count. */
static uint64_t ring_chain_free(tw_ring_t *r) {
  uint64_t dropped = 0;
  while (r) {
    tw_ring_t *next = tw_load_acquire(&r->next);
    dropped += tw_ring_dropped(r);
    ring_unmap(r);
    r = next;
  }
  return dropped;
}

static void record_free(struct tw_thread *t) {
  reaped_dropped += t->ring_dropped + ring_chain_free(tw_load_acquire(&t->ring));
  free(t);
}

/* Handles of threads joined or detached and gone: the last few, for double-join and friends. A new
 * thread given the same handle forgets it. Registry lock. */
#define TW_GONE_HANDLES 64u
static struct gone {
  uintptr_t handle;
  uint64_t id, by;
  uint32_t stack;
  bool joined, created_detached;
} gone[TW_GONE_HANDLES];

static struct gone *gone_of(uintptr_t h) { return &gone[(h >> 12 ^ h >> 21) & (TW_GONE_HANDLES - 1)]; }

struct tw_thread *tw_registry_new(struct tw_thread *parent, uint32_t created_at, bool detached) {
  struct tw_thread *t = calloc(1, sizeof(*t));
  if (!t) return NULL;
  t->id = tw_add_relaxed(&next_id, 1);
  t->parent = parent ? parent->id : 0;
  t->created_at = created_at;
  t->join = detached ? TW_DETACHED : TW_JOINABLE;
  t->creating = true;
  t->start_ns = tw__now_ns();
  return t;
}

uint64_t tw_registry_add(struct tw_thread *t) {
  tw_registry_lock();
  list_push(&live_head, t);
  n_created++;
  uint64_t live = ++n_live;
  tw_registry_unlock();
  return live;
}

void tw_registry_discard(struct tw_thread *t) {
  tw_registry_lock();
  list_unlink(&live_head, t);
  n_created--;
  n_live--;
  tw_registry_unlock();
  free(t);
}

void tw_registry_created_done(struct tw_thread *t) {
  tw_registry_lock();
  t->creating = false;
  tw_registry_unlock();
}

void tw_registry_set_handle(struct tw_thread *t, pthread_t h) {
  tw_registry_lock();
  t->handle = (uintptr_t)h;
  struct gone *g = gone_of((uintptr_t)h);
  if (g->handle == (uintptr_t)h) g->handle = 0; /* the handle names a new thread now */
  /* Already named (the child or the creator came first), or reaped: a thread that was joined,
   * detached and exited can no longer be named by its handle. */
  if (!t->in_hash && t->join != TW_JOINED &&
      !(t->join == TW_DETACHED && tw_load_relaxed(&t->life) == TW_LIFE_EXITED)) {
    struct tw_thread *old = NULL;
    uintptr_t key = (uintptr_t)h;
    HASH_FIND(hh, by_handle, &key, sizeof(key), old);
    if (old) { /* a stale entry for a recycled handle */
      HASH_DELETE(hh, by_handle, old);
      old->in_hash = false;
    }
    HASH_ADD(hh, by_handle, handle, sizeof(uintptr_t), t);
    t->in_hash = true;
  }
  tw_registry_unlock();
}

struct tw_thread *tw_registry_adopt(void) {
  struct tw_thread *t = calloc(1, sizeof(*t));
  if (!t) return NULL;
  pid_t tid = gettid();
  /* The process's initial thread is always T1, whatever ran first. */
  t->id = tid == getpid() ? 1 : tw_add_relaxed(&next_id, 1);
  t->adopted = true;
  t->join = TW_DETACHED; /* nobody will join an adopted thread through us */
  t->start_ns = tw__now_ns();
  tw_store_relaxed(&t->tid, tid);
  t->handle = (uintptr_t)pthread_self();
  tw_registry_lock();
  list_push(&live_head, t);
  n_live++;
  tw_registry_unlock();
  return t;
}

/* Moves an exited record whose handle is done with to the dead list. Registry lock held. */
static void reap_locked(struct tw_thread *t) {
  if (t->list != TW_LIST_LIVE) return; /* already reaped */
  if (t->in_hash) {
    struct gone *g = gone_of(t->handle);
    bool created_detached = t->join == TW_DETACHED && t->join_stack == 0;
    *g = (struct gone){t->handle, t->id, created_detached ? t->parent : t->join_by,
                       created_detached ? t->created_at : t->join_stack, t->join == TW_JOINED,
                       created_detached};
    HASH_DELETE(hh, by_handle, t);
    t->in_hash = false;
  }
  list_unlink(&live_head, t);
  list_push(&dead_head, t);
}

void tw_registry_exited(struct tw_thread *t) {
  tw_wait_end(t);
  tw_registry_lock();
  tw_store_relaxed(&t->exit_ns, tw__now_ns());
  tw_store_release(&t->life, TW_LIFE_EXITED);
  n_exited++;
  n_live--;
  if (t->join != TW_JOINABLE) reap_locked(t);
  tw_registry_unlock();
}

static struct tw_thread *find_locked(pthread_t h) {
  struct tw_thread *t = NULL;
  uintptr_t key = (uintptr_t)h;
  HASH_FIND(hh, by_handle, &key, sizeof(key), t);
  return t;
}

struct tw_thread *tw_registry_lookup(pthread_t h) {
  tw_registry_lock();
  struct tw_thread *t = find_locked(h);
  tw_registry_unlock();
  return t;
}

void tw_registry_join_begin(struct tw_thread *t) {
  tw_registry_lock();
  t->joining++;
  tw_registry_unlock();
}

void tw_registry_detach_begin(struct tw_thread *t) {
  tw_registry_lock();
  t->detaching = true;
  tw_registry_unlock();
}

void tw_registry_join_end(struct tw_thread *t, int result, uint32_t stack, uint64_t by) {
  tw_registry_lock();
  if (t->joining) t->joining--;
  if (result == 0 && t->join != TW_JOINED) {
    t->join = TW_JOINED;
    t->join_stack = stack;
    t->join_by = by;
    /* pthread_join returned, so the thread has finished: if it did not pass our TSD destructor
     * (a foreign exit path), it is exited all the same. */
    if (tw_load_relaxed(&t->life) != TW_LIFE_EXITED) {
      tw_store_relaxed(&t->exit_ns, tw__now_ns());
      tw_store_release(&t->life, TW_LIFE_EXITED);
      n_exited++;
      n_live--;
    }
    reap_locked(t);
  }
  tw_registry_unlock();
}

void tw_registry_detach_end(struct tw_thread *t, int result, uint32_t stack, uint64_t by) {
  tw_registry_lock();
  t->detaching = false;
  if (result == 0 && t->join == TW_JOINABLE) {
    t->join = TW_DETACHED;
    t->join_stack = stack;
    t->join_by = by;
    if (tw_load_relaxed(&t->life) == TW_LIFE_EXITED) reap_locked(t);
  }
  tw_registry_unlock();
}

void tw_registry_handle_fact(pthread_t h, struct tw_handle_fact *out) {
  memset(out, 0, sizeof(*out));
  tw_registry_lock();
  struct tw_thread *t = find_locked(h);
  if (t) {
    out->id = t->id;
    out->by = t->join_by;
    out->stack = t->join_stack;
    if (t->join == TW_DETACHED) {
      out->state = TW_HS_DETACHED;
      out->created_detached = t->join_stack == 0;
      if (out->created_detached) {
        out->by = t->parent;
        out->stack = t->created_at;
      }
    } else {
      out->state = t->joining ? TW_HS_JOINING : TW_HS_JOINABLE;
    }
  } else {
    const struct gone *g = gone_of((uintptr_t)h);
    if (g->handle == (uintptr_t)h) {
      out->state = g->joined ? TW_HS_JOINED : TW_HS_DETACHED;
      out->id = g->id;
      out->by = g->by;
      out->stack = g->stack;
      out->created_detached = g->created_detached;
    }
  }
  tw_registry_unlock();
}

void tw_registry_set_name(pthread_t h, const char *name) {
  tw_registry_lock();
  struct tw_thread *t = find_locked(h);
  if (!t) { /* adopted threads (main) are not in the handle table */
    for (struct tw_thread *c = live_head; c; c = c->next)
      if (c->handle == (uintptr_t)h && tw_load_relaxed(&c->life) != TW_LIFE_EXITED)
        t = c;
  }
  if (t) {
    strncpy(t->name, name, sizeof(t->name) - 1);
    t->name[sizeof(t->name) - 1] = '\0';
  }
  tw_registry_unlock();
}

tw_ring_t *tw__ring_of(struct tw_thread *t) {
  tw_ring_t *r = t->ring_prod;
  if (tw_likely(r != NULL)) return r;
  if (!(r = ring_map(TW_RING_FIRST_SLOTS))) return NULL;
  t->ring_prod = r;
  tw_store_release(&t->ring, r); /* partner: acquire load in tw_registry_drain */
  return r;
}

/* Queues ev, growing the ring when it is full; false (nothing counted) when it is full at its
 * largest. The new segment gets ev first, then is linked from the old one: the consumer drains the
 * old one to its end before it moves on, so the order is kept. */
static bool push_or_grow(struct tw_thread *t, const struct tw_event *ev) {
  tw_ring_t *r = tw__ring_of(t);
  if (!r) return false;
  if (tw_likely(tw_ring_has_room(r))) return tw_ring_push(r, ev);
  if (tw_ring_slots(r) >= TW_RING_SLOTS || t->ring_growing) return false;
  t->ring_growing = true; /* a signal handler pushing meanwhile must not link a second one */
  tw_ring_t *n = ring_map(tw_ring_slots(r) * 2);
  if (n) {
    tw_ring_push(n, ev);
    t->ring_prod = n;
    tw_store_release(&r->next, n); /* partner: the acquire load in tw_registry_drain */
  }
  t->ring_growing = false;
  return n != NULL;
}

bool tw_thread_push(struct tw_thread *t, const struct tw_event *ev) {
  if (tw_likely(push_or_grow(t, ev))) return true;
  if (t->ring_prod) tw_ring_count_drop(t->ring_prod);
  return false;
}

bool tw_ring_push_wait(struct tw_thread *t, const struct tw_event *ev) {
  if (tw_likely(push_or_grow(t, ev))) return true;
  tw_ring_t *r = t->ring_prod;
  if (!r) return false;
  uint64_t deadline = tw__now_ns() + TW_RING_FULL_WAIT_NS;
  do {
    tw_ring_nudge();
    struct timespec pause = {0, 50 * 1000};
    nanosleep(&pause, NULL);
    if (tw_ring_has_room(r)) return tw_ring_push(r, ev);
  } while (tw__now_ns() < deadline);
  return tw_ring_push(r, ev); /* still full: counted as dropped */
}

void tw_wait_begin(struct tw_thread *t, const struct tw_wait_snap *in) {
  struct tw_wait *w = &t->wait;
  /* No stack walk here (it cost each thread's first wait 256 KiB and up to 3 ms with libunwind,
   * and every later one a walk): the call site is enough to unwind the waiting thread later. */
  uint32_t seq = tw_load_relaxed(&w->seq);
  tw_store_relaxed(&w->seq, seq + 1);
  tw_fence_release(); /* partner: the acquire fence in tw_wait_read */
  tw_store_relaxed(&w->stack, 0);
  tw_store_relaxed(&w->site_pc, in->site_pc);
  tw_store_relaxed(&w->site_sp, in->site_sp);
  tw_store_relaxed(&w->site_bp, in->site_bp);
  tw_store_relaxed(&w->fd, in->fd);
  tw_store_relaxed(&w->obj, in->obj);
  tw_store_relaxed(&w->obj2, in->obj2);
  tw_store_relaxed(&w->aux_stack, in->aux_stack);
  uint32_t n = in->nheld < TW_WAIT_HELD ? in->nheld : TW_WAIT_HELD;
  for (uint32_t i = 0; i < n; i++) {
    tw_store_relaxed(&w->held[i], in->held[i]);
    tw_store_relaxed(&w->held_mode[i], in->held_mode[i]);
  }
  tw_store_relaxed(&w->nheld, n);
  tw_store_relaxed(&w->since_ns, tw__now_ns());
  tw_store_relaxed(&w->call, (uint32_t)in->call);
  tw_store_release(&w->seq, seq + 2);
}

void tw_wait_end(struct tw_thread *t) {
  struct tw_wait *w = &t->wait;
  if (tw_load_relaxed(&w->call) == TW_CALL_NONE) return;
  uint32_t seq = tw_load_relaxed(&w->seq);
  tw_store_relaxed(&w->seq, seq + 1);
  tw_fence_release();
  tw_store_relaxed(&w->call, TW_CALL_NONE);
  tw_store_release(&w->seq, seq + 2);
}

void tw_wait_read(const struct tw_wait *cw, struct tw_wait_snap *out) {
  struct tw_wait *w = (struct tw_wait *)cw;
  for (int tries = 0;; tries++) {
    uint32_t s1 = tw_load_acquire(&w->seq); /* partner: release store of seq in tw_wait_begin */
    out->call = (enum tw_call)tw_load_relaxed(&w->call);
    out->stack = tw_load_relaxed(&w->stack);
    out->fd = tw_load_relaxed(&w->fd);
    out->obj = tw_load_relaxed(&w->obj);
    out->obj2 = tw_load_relaxed(&w->obj2);
    out->since_ns = tw_load_relaxed(&w->since_ns);
    out->aux_stack = tw_load_relaxed(&w->aux_stack);
    out->site_pc = tw_load_relaxed(&w->site_pc);
    out->site_sp = tw_load_relaxed(&w->site_sp);
    out->site_bp = tw_load_relaxed(&w->site_bp);
    uint32_t n = tw_load_relaxed(&w->nheld);
    out->nheld = n < TW_WAIT_HELD ? n : TW_WAIT_HELD;
    for (uint32_t i = 0; i < out->nheld; i++) {
      out->held[i] = tw_load_relaxed(&w->held[i]);
      out->held_mode[i] = tw_load_relaxed(&w->held_mode[i]);
    }
    out->episode = s1;
    tw_fence_acquire(); /* partner: the release fence in tw_wait_begin */
    if (!(s1 & 1) && s1 == tw_load_relaxed(&w->seq)) return;
    if (tries > 1000) { /* the owner is being rescheduled mid-write: call it "not waiting" */
      out->call = TW_CALL_NONE;
      return;
    }
  }
}

void tw_registry_counts(struct tw_registry_counts *c) {
  tw_registry_lock();
  c->created = n_created;
  c->exited = n_exited;
  c->live = n_live;
  tw_registry_unlock();
}

static void snap_one(const struct tw_thread *t, struct tw_thread_snap *s) {
  s->id = t->id;
  s->parent = t->parent;
  s->handle = t->handle;
  s->tid = tw_load_relaxed(&((struct tw_thread *)t)->tid);
  s->created_at = t->created_at;
  s->adopted = t->adopted;
  s->life = tw_load_acquire(&((struct tw_thread *)t)->life);
  s->tls = tw_load_relaxed(&((struct tw_thread *)t)->tls);
  s->join = t->join;
  s->joining = t->joining > 0;
  s->detaching = t->detaching;
  memcpy(s->name, t->name, sizeof(s->name));
  s->start_ns = t->start_ns;
  s->exit_ns = tw_load_relaxed(&((struct tw_thread *)t)->exit_ns);
  if (s->life == TW_LIFE_EXITED) s->wait.call = TW_CALL_NONE;
  else tw_wait_read(&t->wait, &s->wait);
}

size_t tw_registry_snapshot(struct tw_thread_snap *snaps, size_t max) {
  size_t n = 0;
  tw_registry_lock();
  for (struct tw_thread *t = live_head; t; t = t->next, n++)
    if (n < max) snap_one(t, &snaps[n]);
  tw_registry_unlock();
  return n;
}

static int snap_by_id(const void *a, const void *b) {
  const struct tw_thread_snap *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

struct tw_thread_snap *tw_registry_snapshot_all(size_t *n) {
  size_t cap = 64;
  for (;;) {
    struct tw_thread_snap *s = malloc(sizeof(*s) * cap);
    if (!s) return NULL;
    size_t got = tw_registry_snapshot(s, cap);
    if (got <= cap) {
      qsort(s, got, sizeof(*s), snap_by_id);
      *n = got;
      return s;
    }
    free(s);
    cap = got + 64; /* threads created since the count: a little room for more */
  }
}

struct ring_ref {
  tw_ring_t *ring, *now; /* the oldest segment at the start of the drain, and after it */
  struct tw_thread *rec;
  uint64_t id;
};

struct drain_ctx {
  tw_event_fn fn;
  void *ctx;
  uint64_t id;
};

static void drain_one(const struct tw_event *ev, void *p) {
  struct drain_ctx *d = p;
  d->fn(ev, d->id, d->ctx);
}

uint64_t tw_registry_drain(tw_event_fn fn, void *ctx) {
  /* Collect ring pointers under the lock, drain them outside it: records are freed only here, on
   * the reporter side, so the rings stay valid. */
  struct ring_ref stack_rings[256];
  struct ring_ref *rings = stack_rings;
  size_t n = 0, cap = TW_ARRAY_LEN(stack_rings);
  uint64_t total = 0;
  tw_registry_lock();
  struct tw_thread *dead = dead_head;
  dead_head = NULL;
  for (struct tw_thread *t = dead; t; t = t->next) t->list = TW_LIST_NONE;
  /* Remembered before their last events are drained: those events may make reports naming them. */
  for (struct tw_thread *t = dead; t; t = t->next)
    if (!t->creating) graveyard_add(t);
  for (int pass = 0; pass < 2; pass++) {
    for (struct tw_thread *t = pass ? dead : live_head; t; t = t->next) {
      tw_ring_t *r = tw_load_acquire(&t->ring); /* partner: release store in tw__ring_of */
      if (!r) continue;
      if (n == cap) {
        struct ring_ref *bigger = malloc(sizeof(*bigger) * cap * 2);
        if (!bigger) break;
        memcpy(bigger, rings, sizeof(*rings) * n);
        if (rings != stack_rings) free(rings);
        rings = bigger;
        cap *= 2;
      }
      rings[n++] = (struct ring_ref){r, r, t, t->id};
    }
  }
  tw_registry_unlock();
  for (size_t i = 0; i < n; i++) {
    struct drain_ctx d = {fn, ctx, rings[i].id};
    tw_ring_t *r = rings[i].ring;
    for (;;) {
      total += tw_ring_drain(r, drain_one, &d);
      tw_ring_t *next = tw_load_acquire(&r->next); /* partner: release store in push_or_grow */
      if (!next) break;
      total += tw_ring_drain(r, drain_one, &d); /* what was pushed before the link */
      r = next;
    }
    rings[i].now = r;
  }
  tw_registry_lock();
  /* Segments drained and left by their producer are freed here, under the lock, so that
   * tw_registry_dropped can walk the chains. Records are freed only below. */
  for (size_t i = 0; i < n; i++) {
    if (rings[i].now == rings[i].ring) continue;
    struct tw_thread *t = rings[i].rec;
    for (tw_ring_t *r = rings[i].ring, *next; r != rings[i].now; r = next) {
      next = tw_load_relaxed(&r->next);
      t->ring_dropped += tw_ring_dropped(r);
      ring_unmap(r);
    }
    tw_store_release(&t->ring, rings[i].now);
  }
  if (rings != stack_rings) free(rings);
  for (struct tw_thread *t = dead, *next; t; t = next) {
    next = t->next;
    if (t->creating) { /* its creator still holds it: next time */
      t->next = NULL;
      list_push(&dead_head, t);
    }
    else record_free(t);
  }
  tw_registry_unlock();
  return total;
}

bool tw_registry_snap_by_id(uint64_t id, struct tw_thread_snap *out) {
  bool found = false;
  tw_registry_lock();
  for (int pass = 0; pass < 2 && !found; pass++)
    for (struct tw_thread *t = pass ? dead_head : live_head; t && !found; t = t->next)
      if (t->id == id) {
        snap_one(t, out);
        found = true;
      }
  uint64_t n = graveyard_next < TW_GRAVEYARD ? graveyard_next : TW_GRAVEYARD;
  for (uint64_t i = 0; i < n && !found; i++) {
    const struct tw_thread_snap *g = &graveyard[(graveyard_next - 1 - i) % TW_GRAVEYARD];
    if (g->id == id) {
      *out = *g;
      found = true;
    }
  }
  tw_registry_unlock();
  return found;
}

uint64_t tw_registry_id_of_handle(pthread_t h) {
  uint64_t id = 0;
  tw_registry_lock();
  for (struct tw_thread *t = live_head; t && !id; t = t->next)
    if (t->handle == (uintptr_t)h) id = t->id;
  tw_registry_unlock();
  return id;
}

uint64_t tw_registry_dropped(void) {
  uint64_t d;
  tw_registry_lock();
  d = reaped_dropped;
  for (int pass = 0; pass < 2; pass++)
    for (struct tw_thread *t = pass ? dead_head : live_head; t; t = t->next) {
      d += t->ring_dropped;
      for (tw_ring_t *r = tw_load_acquire(&t->ring); r; r = tw_load_acquire(&r->next))
        d += tw_ring_dropped(r);
    }
  tw_registry_unlock();
  return d;
}

void tw_registry_fork_prepare(void) { tw_registry_lock(); }
void tw_registry_fork_parent(void) { tw_registry_unlock(); }

void tw_registry_after_fork_child(struct tw_thread *self, bool consistent) {
  /* Only the forking thread exists in the child. Everything else is dropped: those threads are not
   * the child's to join. When the fork did not go through our handlers, another thread may have
   * been changing the lists: they are abandoned, not walked (a bounded, one-time leak). */
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&reg_lock, &fresh, sizeof(fresh));
  HASH_CLEAR(hh, by_handle);
  for (int pass = 0; consistent && pass < 2; pass++) {
    for (struct tw_thread *t = pass ? dead_head : live_head, *next; t; t = next) {
      next = t->next;
      if (t != self) record_free(t);
    }
  }
  live_head = dead_head = NULL;
  graveyard_next = 0;
  n_created = n_exited = 0;
  n_live = 0;
  reaped_dropped = 0;
  if (self) {
    /* The forking thread is the child's initial thread: T1, adopted, never a leak of its own. */
    self->id = 1;
    self->parent = 0;
    self->adopted = true;
    self->join = TW_DETACHED;
    self->created_at = 0;
    tw_store_relaxed(&self->tid, gettid());
    memset(&self->hh, 0, sizeof(self->hh));
    self->list = TW_LIST_NONE;
    self->in_hash = false;
    self->creating = false;
    ring_chain_free(tw_load_relaxed(&self->ring)); /* what the parent's reporter had not drained */
    tw_store_relaxed(&self->ring, NULL);
    self->ring_prod = NULL;
    self->ring_growing = false;
    self->ring_dropped = 0;
    list_push(&live_head, self);
    n_live = 1;
  }
  tw_store_relaxed(&next_id, 2);
}
