/* Thread-leak and thread-surge accounting, grouped by creation stack. */
#ifndef TW_LEAKS_H
#define TW_LEAKS_H

#include <stdint.h>

/* At exit: one thread-leak report per group of threads neither joined nor detached (and detached
 * threads still alive, with THREADWATCH_LEAK_DETACHED=1). Analysis lock held. */
void tw_leaks_check_exit(void);

/* THREADWATCH_MAX_THREADS was just passed with `live` threads alive: groups the live threads by
 * creation stack now, while they exist (once per process, on the creating thread, guard held). */
void tw_leaks_capture_surge(uint64_t live);

/* Writes the thread-surge report captured above. Analysis lock held. */
void tw_leaks_report_surge(void);

#endif
