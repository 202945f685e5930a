/* Who can end a wait on an object that is not an fd: the threads that have posted a semaphore or
 * woken a futex address. A blocked sem_wait waits for them as a pipe reader waits for the pipe's
 * writers (detect/waits.c). The hooks send a fact once per thread and object (hooks/sem.c,
 * hooks/futex.c); the reporter keeps them here. */
#ifndef TW_RUNTIME_FEEDERS_H
#define TW_RUNTIME_FEEDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/atomic.h"
#include "runtime/event.h"

enum tw_feed_kind { TW_FEED_SEM = 1, TW_FEED_FUTEX = 2 };

/* Bumped by every reset (sem_init, sem_destroy): a thread's memo of "already told" is stale then. */
extern _Atomic uint32_t tw__feed_gen;

/* Reporter side. TW_EV_FEED: thread `thread` posted/woke object a (aux = enum tw_feed_kind).
 * TW_EV_FEED_RESET: object a was (re)initialised or destroyed: forget its feeders. */
void tw_feeders_on_event(const struct tw_event *ev, uint64_t thread);
/* The distinct feeders of obj: up to `max` ids in ids; the return value is the count
 * (TW_FD_FACT_THREADS + 1 means more than that). *last is the latest one (0 if none). */
unsigned tw_feeders_threads(uintptr_t obj, uint64_t *ids, unsigned max, uint64_t *last);
/* For tests: forget everything. */
void tw_feeders_reset(void);
/* In a forked child: the feeders were the parent's threads. `consistent` (detect/detector.h): the
 * table can be walked and freed; else it is abandoned. */
void tw_feeders_after_fork_child(bool consistent);

#endif
