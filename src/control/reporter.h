/* The one background thread: each tick it drains every ring into the detector table
 * (detect/dispatch.h), ticks the detectors and answers the dump socket. */
#ifndef TW_CONTROL_REPORTER_H
#define TW_CONTROL_REPORTER_H

#include <stdbool.h>
#include <stdint.h>

/* Starts the reporter thread if it is not running (idempotent; lazily, on the first thread creation,
 * blocking wait, pipe or eventfd, or at start-up when THREADWATCH_INTERVAL is set). */
void tw_reporter_ensure_started(void);

/* One analysis pass: drain every ring into the detectors, make due reports, answer the dump socket
 * (not on the `final` pass of the exit path). Analysis lock held. */
void tw_reporter_tick(uint64_t now_ns, bool final);

/* Wakes the reporter and waits, at most TW_SELF_RELOCK_WAIT_NS, until it has drained every ring and
 * scanned every wait once after this call: what this thread sent or published (a self-relock about
 * to block forever, a misuse before a real call that may crash) is then reported. Guard held; the
 * reporter must be running. */
void tw_reporter_await(void);

/* The last application thread has left after main called pthread_exit: the reporter leaves too, so
 * the process can end the way it would without us. */
void tw_reporter_wake_for_exit(void);

/* fork(): the child has no reporter thread; forget it (restarted on demand). */
void tw_reporter_after_fork_child(void);

#endif
