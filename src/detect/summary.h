/* The summary line (THREADWATCH_INTERVAL, like Go's schedtrace): a detector-table row whose tick
 * writes one line of thread counts by state and the tool's own counters. Analysis lock held. */
#ifndef TW_DETECT_SUMMARY_H
#define TW_DETECT_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

/* The reporter thread started at now_ns: the first line is due one interval later. */
void tw_summary_start(uint64_t now_ns);
void tw_summary_tick(uint64_t now_ns, bool final);

#endif
