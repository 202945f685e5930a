/* The hook side of race watching: every function below is one predictable branch on the global
 * tw__race_on (set only while at least one range is watched) in front of an out-of-line call. Each
 * comment says exactly where its hook calls it. They save and restore errno, pass through while
 * tool code runs on the thread (guard > 0) or after it left, and never block. */
#ifndef TW_RACE_HOOK_H
#define TW_RACE_HOOK_H

#include <stdint.h>

#include "base/tw.h"

/* 1 while at least one range is watched. Declared hidden (-fvisibility does not apply to
 * declarations): the hooks load it with one RIP-relative mov, no address computation. */
extern int tw__race_on __attribute__((visibility("hidden")));

static inline int tw_race_active(void) {
  return tw_unlikely(__atomic_load_n(&tw__race_on, __ATOMIC_RELAXED) != 0);
}

/* --- the out-of-line side (race/sync.c) --- */
enum tw_race_op {
  TW_RACE_LOCKED = 1,     /* obj: a mutex, or an rwlock taken for writing */
  TW_RACE_RDLOCKED,       /* obj: an rwlock taken for reading */
  TW_RACE_UNLOCKING,      /* obj: a mutex or rwlock (the mode is found in the held-lock stack) */
  TW_RACE_SIGNALLING,     /* obj: a condvar */
  TW_RACE_WOKEN,          /* obj: a condvar, obj2 its mutex */
  TW_RACE_WAITING,        /* obj: a condvar, obj2 its mutex (released for the wait) */
  TW_RACE_FD_WRITING,     /* obj: an fd */
  TW_RACE_FD_READ,        /* obj: an fd */
  TW_RACE_CREATING,       /* obj: the new thread's record */
  TW_RACE_STARTED,        /* obj: the calling thread's record */
  TW_RACE_EXITING,        /* obj: the calling thread's record */
  TW_RACE_JOINED,         /* obj: the joined thread's record */
  TW_RACE_DESTROYED,      /* obj: a mutex, rwlock or condvar destroyed or initialised */
};
void tw__race_sync(enum tw_race_op op, uintptr_t obj, uintptr_t obj2);

/* hooks/mutex.c: after every successful acquisition (pthread_mutex_lock, _trylock, _timedlock,
 * _clocklock: result 0 or EOWNERDEAD). The lock fast path ends in a tail call, so its condition
 * also tests !tw_race_active(): while watching, every lock takes the slow path, which calls this
 * in mutex_acquire after the real call (and in pthread_mutex_trylock after the held-lock push). */
static inline void tw_race_mutex_locked(const void *m) {
  if (tw_race_active()) tw__race_sync(TW_RACE_LOCKED, (uintptr_t)m, 0);
}

/* hooks/mutex.c: right BEFORE the real pthread_mutex_unlock (after it, another thread may already
 * have the mutex), in mutex_unlock_slow; a fast path that ends in a tail call tests
 * !tw_race_active() instead and leaves unlocks to the slow path while watching. */
static inline void tw_race_mutex_unlocking(const void *m) {
  if (tw_race_active()) tw__race_sync(TW_RACE_UNLOCKING, (uintptr_t)m, 0);
}

/* hooks/rwlock.c: after every successful acquisition, where the held-lock entry is pushed
 * (rw_acquire, pthread_rwlock_tryrdlock, pthread_rwlock_trywrlock); write is 1 for a write lock. */
static inline void tw_race_rwlock_locked(const void *l, int write) {
  if (tw_race_active()) tw__race_sync(write ? TW_RACE_LOCKED : TW_RACE_RDLOCKED, (uintptr_t)l, 0);
}

/* hooks/rwlock.c: right BEFORE the real pthread_rwlock_unlock (the held-lock entry still says
 * whether it was held for reading or writing). */
static inline void tw_race_rwlock_unlocking(const void *l) {
  if (tw_race_active()) tw__race_sync(TW_RACE_UNLOCKING, (uintptr_t)l, 0);
}

/* hooks/cond.c: right BEFORE the real pthread_cond_signal and pthread_cond_broadcast. */
static inline void tw_race_cond_signalling(const void *c) {
  if (tw_race_active()) tw__race_sync(TW_RACE_SIGNALLING, (uintptr_t)c, 0);
}

/* hooks/cond.c, cond_wait_common: right BEFORE the real wait (it releases the mutex) ... */
static inline void tw_race_cond_waiting(const void *c, const void *m) {
  if (tw_race_active()) tw__race_sync(TW_RACE_WAITING, (uintptr_t)c, (uintptr_t)m);
}
/* ... and right AFTER it returns, whatever it returned (the mutex is held again); r is its result:
 * only a wake-up (0) also acquires the condvar. */
static inline void tw_race_cond_woken(const void *c, const void *m, int r) {
  if (tw_race_active()) {
    if (r == 0) tw__race_sync(TW_RACE_WOKEN, (uintptr_t)c, (uintptr_t)m);
    else tw__race_sync(TW_RACE_LOCKED, (uintptr_t)m, 0);
  }
}

/* hooks/fd.c: right BEFORE the real write/eventfd_write on a tracked fd (inside the tracked path,
 * so untracked fds pay nothing). */
static inline void tw_race_fd_writing(int fd) {
  if (tw_race_active()) tw__race_sync(TW_RACE_FD_WRITING, (uintptr_t)fd, 0);
}
/* hooks/fd.c: AFTER a read/__read_chk on a tracked fd returned > 0, or eventfd_read returned 0. */
static inline void tw_race_fd_read(int fd) {
  if (tw_race_active()) tw__race_sync(TW_RACE_FD_READ, (uintptr_t)fd, 0);
}

/* hooks/thread.c, pthread_create: after the record `rec` is made, BEFORE the real pthread_create. */
static inline void tw_race_thread_creating(const void *rec) {
  if (tw_race_active()) tw__race_sync(TW_RACE_CREATING, (uintptr_t)rec, 0);
}
/* hooks/thread.c, tw_thread_start: in the new thread, after t->self is set, before the
 * application's function runs. */
static inline void tw_race_thread_started(const void *rec) {
  if (tw_race_active()) tw__race_sync(TW_RACE_STARTED, (uintptr_t)rec, 0);
}
/* hooks/thread.c, on_thread_exit (the TSD destructor): first thing, with the thread's record. */
static inline void tw_race_thread_exiting(const void *rec) {
  if (tw_race_active()) tw__race_sync(TW_RACE_EXITING, (uintptr_t)rec, 0);
}
/* hooks/thread.c, join_common: after the real join returned 0, with the target's record (skip it
 * when the target is unknown). */
static inline void tw_race_joined(const void *rec) {
  if (tw_race_active()) tw__race_sync(TW_RACE_JOINED, (uintptr_t)rec, 0);
}
/* hooks/mutex.c, hooks/rwlock.c, hooks/cond.c: after a successful init or destroy of a mutex, rwlock
 * or condvar (its clock is dropped; a new object may take the address). */
static inline void tw_race_destroyed(const void *obj) {
  if (tw_race_active()) tw__race_sync(TW_RACE_DESTROYED, (uintptr_t)obj, 0);
}

#endif
