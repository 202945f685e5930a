/* Thread-leak and thread-surge accounting, grouped by creation stack. */
#ifndef TW_LEAKS_H
#define TW_LEAKS_H

#include <stdint.h>

/* At exit: one thread-leak report per group of threads neither joined nor detached (and detached
 * threads still alive, with THREADWATCH_LEAK_DETACHED=1). Analysis lock held. */
void tw_leaks_check_exit(void);

/* The thread-surge report: `live` threads were alive when THREADWATCH_MAX_THREADS was passed.
 * Analysis lock held. */
void tw_leaks_report_surge(uint64_t live);

#endif
