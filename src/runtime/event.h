/* The fixed-size binary events that application threads send to the reporter through their rings. */
#ifndef TW_EVENT_H
#define TW_EVENT_H

#include <assert.h>
#include <stdint.h>

enum tw_event_type {
  TW_EV_NONE = 0,
  /* A thread did I/O on a tracked fd for the first time: a = fd, aux = TW_EV_IO_READ/WRITE,
   * stack = where. The reporter keeps per-fd reader/writer sets for blocked-I/O reports. */
  TW_EV_FD_IO,
  /* A never-seen lock-order edge held -> acquired: a = held, b = acquired, c = gate (another held
   * lock, or 0), stack = where `acquired` was taken, stack2 = where `held` was taken,
   * flags = TW_EVF_* modes and kinds. */
  TW_EV_LOCK_EDGE,
  /* A lock was destroyed or re-initialised (aux 0), or found without its identity tag, a new lock
   * where an older one may have been (aux 1): a = address. */
  TW_EV_LOCK_RESET,
  /* A lock was initialised (sent only with THREADWATCH_LOCK_CLASSES=1): a = address, c = the return
   * address of the init call (its class). */
  TW_EV_LOCK_INIT,
  /* pthread_cond_signal (aux 0) or _broadcast (aux 1) found no thread waiting on the condvar:
   * a = condvar, c = when (ns, monotonic), stack = where. Lost-wakeup evidence. */
  TW_EV_COND_NOWAITER,
  /* A pthread API misuse seen by a hook: aux = enum tw_misuse, a = the object, b = a second object
   * where one applies (the other mutex of cond-mutex-mismatch, the thread record of a join),
   * stack = where, stack2 = the earlier event that makes it wrong (0 if none). */
  TW_EV_MISUSE,
  /* A trapped access to watched data (race.c owns the layout of its fields). */
  TW_EV_RACE_ACCESS,
  /* A thread posted a semaphore or woke a futex address for the first time (in its memo):
   * a = the object, aux = enum tw_feed_kind (feeders.h), aux32 = lock-event sequence number. */
  TW_EV_FEED,
  /* A semaphore was (re)initialised or destroyed: a = the object, aux32 = sequence number. */
  TW_EV_FEED_RESET,
  /* A module was unloaded (dlclose): every lock and condvar in [a, b) is gone. A lock event
   * (aux32 = sequence number). */
  TW_EV_LOCK_RANGE_GONE,
  TW_EV_TYPE_COUNT
};

enum { TW_EV_IO_READ = 1, TW_EV_IO_WRITE = 2 };

/* TW_EV_LOCK_EDGE flags: how `a` is held and how `b` is taken, and what kind each lock is. */
enum {
  TW_EVF_FROM_READ = 1,   /* a is held shared (rwlock read) */
  TW_EVF_TO_READ = 2,     /* b is taken shared */
  TW_EVF_FROM_RWLOCK = 4, /* a is an rwlock (else a mutex) */
  TW_EVF_TO_RWLOCK = 8,
  TW_EVF_FROM_SPIN = 16,  /* a is a spinlock */
  TW_EVF_TO_SPIN = 32,
};

/* 40 bytes: three addresses plus two stack ids, so a lock-order edge with its gate fits one event.
 * Lock events (EDGE, RESET, INIT, RANGE_GONE) carry in aux32 a process-wide sequence number: the
 * reporter
 * applies them in that order across threads (a destroy must come after the edges made before it). */
struct tw_event {
  uint8_t type;    /* enum tw_event_type */
  uint8_t flags;
  uint16_t aux;
  uint32_t stack;  /* stack depot id, 0 = none */
  uint64_t a;
  uint64_t b;
  uint64_t c;
  uint32_t stack2;
  uint32_t aux32;
};
static_assert(sizeof(struct tw_event) == 40, "events are fixed-size, 40 bytes");

#endif
