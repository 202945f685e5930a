/* thread-growth, Go's "NumGoroutine keeps growing and does not converge": once a period
 * (THREADWATCH_GROWTH) the live threads of each creation site are counted, and a site whose count
 * rose in each of the last TW_GROWTH_PERIODS periods, to TW_GROWTH_MIN_THREADS or more, gets one
 * `thread-growth` warning (a leak per request long before THREADWATCH_MAX_THREADS; or a ramp-up
 * that has not settled yet). A pool that grows to its size and stays never rises that long.
 * Detector-table row; analysis lock held. */
#ifndef TW_DETECT_GROWTH_H
#define TW_DETECT_GROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The growth rule on one site's counts, oldest first (n of them): true when the last
 * TW_GROWTH_PERIODS steps all rose and the last count is at least TW_GROWTH_MIN_THREADS. Pure. */
bool tw_growth_rising(const uint32_t *counts, size_t n);

void tw_growth_tick(uint64_t now_ns, bool final);
void tw_growth_after_fork_child(bool consistent);

#endif
