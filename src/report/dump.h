/* The thread dump, pprof's goroutine?debug=1|2 for pthreads and jstack's lock view: every live
 * application thread with its id, name, state, what it waits for, for how long and who holds it,
 * the locks it holds (since when, where taken), its current stack and creation stack, and the
 * deadlocks the wait-for analysis finds now. Grouped by identical stacks with counts by default, or
 * every thread; text or JSON. Analysis lock held. */
#ifndef TW_DUMP_H
#define TW_DUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/limits.h"

/* Deadlocks found by the wait-for analysis at the time of the dump (detect/waits.h fills it; the
 * dump only prints it, as jstack's "Found one deadlock" section). */
struct tw_dump_deadlocks {
  uint32_t n;
  struct tw_dump_deadlock {
    const char *what;  /* "wait-cycle", "self-relock", "all-asleep" */
    uint32_t nthreads; /* in cycle order for a wait-cycle */
    uint64_t ids[TW_REPORT_MAX_THREADS];
  } d[4];
};

struct tw_out;
/* `deadlocks` may be NULL (no analysis available). */
void tw_dump_write(struct tw_out *o, bool all, bool json, const struct tw_dump_deadlocks *deadlocks);

#endif
