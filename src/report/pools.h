/* The built-in suppressions (THREADWATCH_DEFAULT_SUPPRESSIONS, on by default): threads that a
 * runtime library creates and owns for the life of the process (OpenMP's pool, TBB's workers,
 * GLib's thread pool, jemalloc's background threads, a Rust jobserver helper) are not the
 * program's to join, as the sanitizers' built-in suppressions say the same of such threads. */
#ifndef TW_REPORT_POOLS_H
#define TW_REPORT_POOLS_H

#include <stdbool.h>

#include "report/report.h"

/* Whether report r is a thread-leak whose every thread (and group) was created by a runtime's own
 * code: the creation stack's first frame is in one of the runtimes' libraries, or a frame of it is
 * a runtime's pool function. Only the creation stack counts: a program's thread that happens to be
 * inside libgomp at exit is still the program's. */
bool tw_report_runtime_owned(const struct tw_report *r);

#endif
