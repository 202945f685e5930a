/* The thread registry: one record per application thread, its lifecycle, name and current wait. */
#ifndef TW_REGISTRY_H
#define TW_REGISTRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uthash.h>

#include "base/atomic.h"
#include "base/limits.h"
#include "runtime/calls.h"
#include "runtime/ring.h"

/* What a thread is blocked in right now. Written only by the owning thread, read by the reporter:
 * a sequence lock (seq odd while writing) gives the reader a consistent copy. */
struct tw_wait {
  _Atomic uint32_t seq;
  _Atomic uint32_t call;  /* enum tw_call; TW_CALL_NONE when not waiting */
  _Atomic uint32_t stack; /* depot id of the stack at the call, when known at once (else 0) */
  _Atomic int32_t fd;
  _Atomic uintptr_t obj;  /* lock/condvar address, pthread_t of a join target */
  _Atomic uintptr_t obj2; /* the mutex of a condvar wait */
  _Atomic uint64_t since_ns;
  _Atomic uint32_t aux_stack; /* self-relock: where the lock was first taken */
  /* Where the application called the hook: the return address, its stack pointer and frame
   * pointer there. The stack is unwound from them only when a report needs it (the frames above
   * the call do not change while the thread waits in it): report/build.c. */
  _Atomic uintptr_t site_pc, site_sp, site_bp;
  _Atomic uint32_t nheld;     /* locks held during the wait (published: the wait-for graph) */
  _Atomic uintptr_t held[TW_WAIT_HELD];
  _Atomic uint8_t held_mode[TW_WAIT_HELD]; /* enum tw_held_mode (tls.h) */
};

/* A consistent copy of a struct tw_wait. */
struct tw_wait_snap {
  enum tw_call call;
  uint32_t stack;
  int32_t fd;
  uintptr_t obj, obj2;
  uint64_t since_ns;
  uint32_t episode;   /* changes with every wait the thread enters: tells wait episodes apart */
  uint32_t aux_stack;
  uintptr_t site_pc, site_sp, site_bp; /* the call site (struct tw_wait) */
  uint32_t nheld;
  uintptr_t held[TW_WAIT_HELD];
  uint8_t held_mode[TW_WAIT_HELD];
};

enum tw_life { TW_LIFE_RUNNING = 0, TW_LIFE_EXITED = 1 };
enum tw_list { TW_LIST_NONE = 0, TW_LIST_LIVE = 1, TW_LIST_DEAD = 2 };
enum tw_join { TW_JOINABLE = 0, TW_DETACHED = 1, TW_JOINED = 2 };

struct tw_thread {
  uint64_t id;               /* T-number: 1 = main thread, then creation order */
  uint64_t parent;           /* id of the creating thread, 0 if unknown */
  _Atomic int32_t tid;       /* kernel thread id, set by the thread itself when it starts */
  uintptr_t handle;          /* pthread_t; registry lock */
  uint32_t created_at;       /* depot id of the pthread_create call site stack */
  bool adopted;              /* not created through our hook (main thread, foreign threads) */
  bool in_hash;              /* in the handle table; registry lock */
  uint8_t list;              /* which list holds it: TW_LIST_*; registry lock */
  bool creating;             /* pthread_create has not returned yet: do not free; registry lock */
  uint64_t start_ns;
  _Atomic uint64_t exit_ns;
  _Atomic int life;          /* enum tw_life */
  int join;                  /* enum tw_join; under the registry lock */
  uint16_t joining;          /* threads inside pthread_join on it right now; registry lock */
  bool detaching;            /* a pthread_detach of it is under way; registry lock */
  uint32_t join_stack;       /* where it was joined, or detached (0: created detached); registry lock */
  uint64_t join_by;          /* the thread that joined or detached it; registry lock */
  char name[16];             /* under the registry lock */
  struct tw_wait wait;
  /* The event ring, a chain of segments (ring.h): `ring` is the oldest segment not yet drained and
   * freed (set by the owner on its first event, partner: the reporter's drain; then advanced by the
   * drain under the registry lock), `ring_prod` the one the owner pushes to (owner only). */
  tw_ring_t *_Atomic ring;
  tw_ring_t *ring_prod;
  bool ring_growing;         /* the owner is linking a bigger segment (a handler's push drops) */
  uint64_t ring_dropped;     /* drops of segments already freed; registry lock */
  _Atomic uintptr_t tls;     /* its struct tw_tls (held locks, read by the dump), 0 until known */
  struct tw_thread *prev, *next; /* live or dead list, under the registry lock */
  UT_hash_handle hh;         /* by handle, while the handle can still be joined or detached */
};

/* A consistent snapshot of one record, taken under the registry lock, for reports. */
struct tw_thread_snap {
  uint64_t id, parent;
  uintptr_t handle;
  int32_t tid;
  uint32_t created_at;
  bool adopted;
  int life, join;
  bool joining, detaching;   /* a join / a detach of it was under way at the snapshot */
  char name[16];
  uint64_t start_ns, exit_ns;
  uintptr_t tls;             /* struct tw_thread.tls */
  struct tw_wait_snap wait;
};

/* --- used by the hooks (application threads) --- */

/* Makes a record for a thread about to be created by `parent` (may be NULL). Not yet visible. */
struct tw_thread *tw_registry_new(struct tw_thread *parent, uint32_t created_at, bool detached);
/* Publishes a record made by tw_registry_new (before the thread can run). Returns the number of
 * live threads, this one included. */
uint64_t tw_registry_add(struct tw_thread *t);
/* Undoes tw_registry_add + tw_registry_new when pthread_create failed. */
void tw_registry_discard(struct tw_thread *t);
/* Records the handle of a created thread so joins and detaches can find it (creator and child both
 * call it: whichever comes first). */
void tw_registry_set_handle(struct tw_thread *t, pthread_t h);
/* The creator is done with the record (pthread_create returned): it may now be freed once reaped. */
void tw_registry_created_done(struct tw_thread *t);
/* Makes and publishes a record for a thread we did not create (the main thread, foreign threads). */
struct tw_thread *tw_registry_adopt(void);
/* The calling thread is leaving: marks it exited (the last write it makes to its record). */
void tw_registry_exited(struct tw_thread *t);
/* The record of the joinable thread `h`, or NULL. Look it up BEFORE the real join or detach: once
 * that returns, glibc may hand the same pthread_t to a new thread. The record stays valid until it
 * is marked joined/detached below (records are freed only after that). */
struct tw_thread *tw_registry_lookup(pthread_t h);
/* Around the real join/detach of record `t`: `begin` before the call (the exit-time leak check then
 * counts the join or detach as done: the process may end between the real call and `end`), `end`
 * after it with the call's result. */
void tw_registry_join_begin(struct tw_thread *t);
void tw_registry_join_end(struct tw_thread *t, int result, uint32_t stack, uint64_t by);
void tw_registry_detach_begin(struct tw_thread *t);
void tw_registry_detach_end(struct tw_thread *t, int result, uint32_t stack, uint64_t by);

/* What the registry knows of handle h, for the misuse checks of join and detach: a thread that can
 * be joined, one that is detached (running), one being joined right now, or one already joined or
 * detached and gone (remembered for the last few handles, until a new thread takes the handle). */
enum tw_handle_state { TW_HS_UNKNOWN = 0, TW_HS_JOINABLE, TW_HS_JOINING, TW_HS_DETACHED, TW_HS_JOINED };
struct tw_handle_fact {
  enum tw_handle_state state;
  uint64_t id;      /* the thread */
  uint64_t by;      /* who joined or detached it (the creator, when it was created detached) */
  uint32_t stack;   /* where (its creation stack, when it was created detached) */
  bool created_detached;
};
void tw_registry_handle_fact(pthread_t h, struct tw_handle_fact *out);
void tw_registry_set_name(pthread_t h, const char *name);

/* The segment the owner pushes to, mapped on its first event. Owner thread only; async-signal-safe.
 * NULL if no memory could be had. */
tw_ring_t *tw__ring_of(struct tw_thread *t);

/* Queues ev on the thread's ring, moving to a segment twice as big when this one is full (up to
 * TW_RING_SLOTS). Never waits: past that, the event is dropped and counted. Returns true if queued.
 * Owner thread only; async-signal-safe (mmap). */
bool tw_thread_push(struct tw_thread *t, const struct tw_event *ev);

/* The same, but a ring full at its largest nudges the reporter and waits for room at most
 * TW_RING_FULL_WAIT_NS; then the event is dropped and counted. Returns true if queued. */
bool tw_ring_push_wait(struct tw_thread *t, const struct tw_event *ev);

/* Wait-state writers: only the owning thread calls them. `w` gives call, fd, obj, obj2, aux_stack,
 * the call site (site_pc/sp/bp) and the held locks; the start time is taken here. No unwinding: a
 * dozen stores, one clock read. */
void tw_wait_begin(struct tw_thread *t, const struct tw_wait_snap *w);
void tw_wait_end(struct tw_thread *t);
void tw_wait_read(const struct tw_wait *w, struct tw_wait_snap *out);

/* --- used by the reporter and the exit path --- */

/* Counters: threads created through the hook, exited, live now (application threads only). */
struct tw_registry_counts {
  uint64_t created, exited, live;
};
void tw_registry_counts(struct tw_registry_counts *c);

/* Copies up to `max` records into snaps (live and not yet reaped), returns how many exist. */
size_t tw_registry_snapshot(struct tw_thread_snap *snaps, size_t max);

/* Every live record, sorted by thread id, in a malloc'd array (the caller frees it); *n is the
 * count. NULL if out of memory. */
struct tw_thread_snap *tw_registry_snapshot_all(size_t *n);

/* Calls fn(ev, thread id, ctx) for every queued event of every thread, then frees reaped records
 * whose rings have been drained. Returns the number of events. Reporter side only (or the exit path
 * under the analysis lock). */
typedef void (*tw_event_fn)(const struct tw_event *ev, uint64_t thread, void *ctx);
uint64_t tw_registry_drain(tw_event_fn fn, void *ctx);

/* Snapshot of the live record with thread id `id`. Returns false if it is gone (reaped). */
bool tw_registry_snap_by_id(uint64_t id, struct tw_thread_snap *out);

/* The id of the live record with handle h (joinable or adopted), 0 if none. */
uint64_t tw_registry_id_of_handle(pthread_t h);

/* Sum of every ring's drop counter (including reaped threads). */
uint64_t tw_registry_dropped(void);

/* After fork(), in the child: keep only the calling thread's record. `consistent`: the fork went
 * through our handlers (the lists were not being changed); else they are abandoned unwalked. */
void tw_registry_after_fork_child(struct tw_thread *self, bool consistent);
void tw_registry_fork_prepare(void);
void tw_registry_fork_parent(void);

/* Locks used by fork and by tests. */
void tw_registry_lock(void);
void tw_registry_unlock(void);

#endif
