/* Helpers that detectors use to fill a struct tw_report: describing threads, their waits and the
 * places in their stacks. Reporter side (analysis lock held), or a report's own thread. */
#ifndef TW_REPORT_BUILD_H
#define TW_REPORT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "report/report.h"
#include "runtime/registry.h"

/* "func (file.c:42)" for the first frame of `stack` that is the application's own code, into buf;
 * "an unknown place" if none. */
void tw_report_where(uint32_t stack, char *buf, size_t n);

/* `T2 "name"` (or `T2` without a name) for thread id `id`, its name from the registry. */
void tw_report_thread_label(uint64_t id, char *buf, size_t n);

/* Fills thread `rt` of a report from a registry snapshot: state, what it waits on (described), for
 * how long, its stacks. */
void tw_report_thread_from_snap(struct tw_report_thread *rt, const struct tw_thread_snap *s,
                                uint64_t now_ns);

/* A running thread (not in a watched call): its stack and the system call it is stopped in, read
 * without stopping it (runtime/unwind_other.h), as `stack` and `note`; "running (not in a system
 * call)" when it is on a CPU. Slow: for reports about a few threads. */
void tw_report_thread_locate(struct tw_report_thread *rt);

/* Fills the threadwatch_name_lock() names a report leaves empty: the locks of a lock-order cycle
 * and the locks each thread held. */
void tw_report_fill_names(struct tw_report *r);

#endif
