/* The reporter's work, independent of which thread does it: drain every ring into the detector
 * table, tick the detectors, reset them after fork, run their exit checks. Analysis lock held. */
#ifndef TW_DETECT_DISPATCH_H
#define TW_DETECT_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

/* Drains every ring into the detectors (ordered rows get their events in sequence order) and
 * returns the number of events. Analysis lock held. */
uint64_t tw_detect_drain(void);

/* One pass: drain, then every detector's tick. Analysis lock held. */
void tw_detect_tick(uint64_t now_ns, bool final);

/* While there is no reporter thread, the thread that sent lock events applies them itself (tool
 * code, guard held): a single-threaded program gets no thread from us, so glibc keeps its
 * single-thread fast paths (a lock without a locked instruction), and it stays single-threaded for
 * fork and for anything else that tells the two apart. Takes the analysis lock. */
void tw_detect_drain_inline(void);

/* Every detector's after_fork, in the child (detector.h: `consistent`). */
void tw_detect_after_fork_child(bool consistent);

/* Every detector's at_exit. Analysis lock held. */
void tw_detect_at_exit(void);

#endif
