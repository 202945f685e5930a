/* Live blocking analysis on the reporter thread: the wait-for graph (deadlocks: wait cycles,
 * self-relock, all threads asleep), stalls and lost wakeups. Analysis lock held. */
#ifndef TW_WAITS_H
#define TW_WAITS_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/event.h"

/* One scan of every live thread's wait state; reports what it finds. */
void tw_waits_scan(uint64_t now_ns);
/* Detector-table tick: a scan, except on the exit path's final tick. */
void tw_waits_tick(uint64_t now_ns, bool final);
/* A condvar signal/broadcast that found no waiter (TW_EV_COND_NOWAITER). */
void tw_waits_on_event(const struct tw_event *ev, uint64_t thread);
/* The deadlocks the wait-for graph has now, for a thread dump (report/dump.h): the same rules and
 * solver as the scan, on the threads blocked for at least TW_DEADLOCK_CONFIRM_NS (no second look),
 * whether reported already or not. */
struct tw_dump_deadlocks;
void tw_waits_find_deadlocks(struct tw_dump_deadlocks *out, uint64_t now_ns);
/* In a forked child: forget the parent's threads. */
void tw_waits_after_fork_child(bool consistent);
/* Scans completed so far (a hook waiting for its self-relock report watches it). */
extern _Atomic uint32_t tw__scans_done;

#endif
