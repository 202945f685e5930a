/* The lock-order detector (a row of the detector table): lock events in, lock-order-cycle reports
 * out. Analysis lock held. */
#ifndef TW_DETECT_LOCKS_H
#define TW_DETECT_LOCKS_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/event.h"

/* TW_EV_LOCK_EDGE, TW_EV_LOCK_RESET, TW_EV_LOCK_INIT from `thread`, in sequence order. */
void tw_locks_on_event(const struct tw_event *ev, uint64_t thread);

/* At exit: one line per group of cycles folded into a reported one (same call sites). */
void tw_locks_at_exit(void);

/* In a forked child (detector.h). */
void tw_locks_after_fork_child(bool consistent);

#endif
