/* The analysis engine's shared switches: the analysis lock, and whether the reporter thread runs.
 * The thread itself (its loop and tick) is control/reporter.c; what it runs is detect/dispatch.c.
 * They live down here because every layer above needs them: hooks and detectors ask whether a
 * reporter thread exists (else they apply their events inline), the race trap side and the public
 * API serialise with the analysis. */
#ifndef TW_RUNTIME_ENGINE_H
#define TW_RUNTIME_ENGINE_H

#include <stdbool.h>

#include "base/atomic.h"

/* Serialises all analysis and report writing: held by each tick, by the exit path, by inline
 * drains and by the API calls that read or change analysis state. Never held across a call into
 * application code or a real blocking call (hazard 5). */
void tw_analysis_lock(void);
void tw_analysis_unlock(void);

/* Set (0 -> 1) by the one thread that starts the reporter, reset in a forked child. */
extern _Atomic int tw__engine_started;

/* Whether the reporter thread has been started. */
static inline bool tw_engine_running(void) { return tw_load_acquire(&tw__engine_started) != 0; }

/* fork(): the prepare handler takes the analysis lock (no report is half-written in the child),
 * waiting at most TW_FORK_ANALYSIS_WAIT_NS (false: it goes on without it, and the child must treat
 * its analysis state as inconsistent); the parent releases it, the child re-initialises it and
 * forgets the reporter thread. */
bool tw_engine_fork_prepare(void);
void tw_engine_fork_parent(void);
void tw_engine_after_fork_child(void);

#endif
