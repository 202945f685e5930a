/* Report emission: the suppression check, then every writer of the writer table to its file, the
 * count that the exit status rule reads. Analysis lock held for all of it. */
#ifndef TW_REPORT_EMIT_H
#define TW_REPORT_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "report/report.h"

/* Writes `r` with every writer unless a suppression matches it. Returns true if written. */
bool tw_report_emit(struct tw_report *r);

/* Reports written (not suppressed) by this process. */
uint64_t tw_report_count(void);

/* Writes a line to the text log (the summary line, notices). */
void tw_report_log_line(const char *line);

/* In the forked child: forget the parent's report count, reopen %p outputs. */
void tw_report_after_fork_child(void);

#endif
