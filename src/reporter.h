/* The one background thread: drains rings, feeds the detectors, ticks, prints the summary line. */
#ifndef TW_REPORTER_H
#define TW_REPORTER_H

#include <stdbool.h>
#include <stdint.h>

/* Starts the reporter thread if it is not running (idempotent; lazily, on the first thread creation
 * or at start-up when THREADWATCH_INTERVAL is set). */
void tw_reporter_ensure_started(void);

/* Whether the reporter thread has been started. */
bool tw_reporter_running(void);

/* While there is no reporter thread, the thread that sent lock events applies them itself (tool
 * code, guard held): a single-threaded program gets no thread from us, so glibc keeps its
 * single-thread fast paths (a lock without a locked instruction), and it stays single-threaded for
 * fork and for anything else that tells the two apart. */
void tw_reporter_drain_inline(void);

/* Serialises all analysis and report writing: held by each tick and by the exit path. */
void tw_analysis_lock(void);
void tw_analysis_unlock(void);

/* One analysis pass: drain every ring into the detectors, make due reports. Analysis lock held. */
void tw_reporter_tick(uint64_t now_ns, bool final);

/* The last application thread has left after main called pthread_exit: the reporter leaves too, so
 * the process can end the way it would without us. */
void tw_reporter_wake_for_exit(void);

/* A thread-surge is due: `live` threads were alive when the limit was passed. */
void tw_reporter_note_surge(uint64_t live);

/* fork(): the child has no reporter thread; forget it (restarted on demand). */
void tw_reporter_after_fork_child(void);
void tw_reporter_fork_prepare(void);
void tw_reporter_fork_parent(void);

#endif
