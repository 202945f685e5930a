/* pthread API misuse (kind `misuse`). The hooks see it before the real call (hooks/misuse.c sends
 * it and waits until it is reported: the real call may crash next); the reporter thread makes one
 * report per misuse and call site (misuse.c). The real call then happens as it would without us. */
#ifndef TW_MISUSE_H
#define TW_MISUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/registry.h"
#include "runtime/tls.h"

/* The `what` of each misuse; the names are the contract (docs/report-format.md). */
#define TW_MISUSE_LIST(X)                                \
  X(UNLOCK_NOT_OWNER, "unlock-not-owner")                \
  X(UNLOCK_UNLOCKED, "unlock-unlocked")                  \
  X(DESTROY_LOCKED, "destroy-locked")                    \
  X(DESTROY_WAITED, "destroy-waited")                    \
  X(USE_AFTER_DESTROY, "use-after-destroy")              \
  X(COND_MUTEX_MISMATCH, "cond-mutex-mismatch")          \
  X(COND_WAIT_UNLOCKED, "cond-wait-unlocked")            \
  X(DOUBLE_JOIN, "double-join")                          \
  X(JOIN_DETACHED, "join-detached")                      \
  X(DETACH_JOINED, "detach-joined")                      \
  X(EXIT_HOLDING_LOCKS, "exit-holding-locks")            \
  X(RWLOCK_UNLOCK_NOT_HELD, "rwlock-unlock-not-held")  \
  X(CALL_FAILED, "call-failed")                          \
  X(SELF_RELOCK, "self-relock")

enum tw_misuse {
#define TW_MISUSE_ENUM(id, name) TW_MU_##id,
  TW_MISUSE_LIST(TW_MISUSE_ENUM)
#undef TW_MISUSE_ENUM
  TW_MU_COUNT
};

/* What kind of object a misuse is about. */
enum tw_mu_obj { TW_MO_MUTEX = 0, TW_MO_RWLOCK = 1, TW_MO_COND = 2, TW_MO_THREAD = 3 };
/* A flag on TW_MO_THREAD: the earlier event is the creation of a thread created detached. */
#define TW_MO_CREATED_DETACHED 0x80u
/* A flag on exit-holding-locks: the thread ends the whole process (exit, return from main). */
#define TW_MO_ENDS_PROCESS 0x40u
#define TW_MO_KIND_MASK 0x3fu

const char *tw_misuse_name(enum tw_misuse what);

/* call-failed: a pthread call failed with an error that means a bug (not EBUSY from a try, nor
 * ETIMEDOUT from a timed call): the event's `b` packs the call (enum tw_call) and the errno, and a
 * flag for a timeout whose tv_nsec is out of range (the usual cause of EINVAL). */
#define TW_CALL_FAILED_PACK(call, err, bad_ts) \
  (((uint64_t)(call) << 32) | ((uint64_t)((bad_ts) ? 1 : 0) << 31) | (uint32_t)(err))
#define TW_CALL_FAILED_CALL(b) ((enum tw_call)((b) >> 32))
#define TW_CALL_FAILED_ERR(b) ((int)((b)&0x7fffffff))
#define TW_CALL_FAILED_BAD_TS(b) (((b) >> 31) & 1)

/* --- the sending side (misuse_send.c) --- */

struct tw_tls;
/* Queues the exit-holding-locks events of thread t, whose record is self: one per lock it holds
 * (robust mutexes left out), innermost first, the outermost last with index 0 (ends_process: the
 * thread ends the whole process, by exit or a return from main). Returns 0 when it holds none, 1
 * when every event was queued, -1 when some were dropped. Guard held. */
int tw_misuse_push_exit_holding(struct tw_tls *t, struct tw_thread *self, bool ends_process);

/* --- the reporter side (analysis lock held) --- */

struct tw_event;
/* A TW_EV_MISUSE event from `thread`'s ring: aux = enum tw_misuse, flags = enum tw_mu_obj,
 * a = the object (for joins: the pthread_t), b = a second fact (the holder's tid for unlock and
 * destroy, the mutex of a condvar wait, the waiter count, the target thread's id for joins),
 * c = the call site's return address (the dedupe key),
 * stack = where, stack2 = the earlier event that makes it wrong (0: none), aux32 = the thread that
 * did that earlier event (0: unknown). exit-holding-locks sends one event per held lock (b = its
 * index, counting down to 0 for the last), with `stack` where that lock was taken. */
void tw_misuse_on_event(const struct tw_event *ev, uint64_t thread);

/* cond-mutex-mismatch, found by the wait scan: threads a and b wait on the same condvar with
 * different mutexes at the same time. */
void tw_misuse_cond_mismatch(const struct tw_thread_snap *a, const struct tw_thread_snap *b);

#endif
