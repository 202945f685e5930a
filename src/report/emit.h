/* Report emission: the suppression check, then every writer of the writer table to its file, the
 * count that the exit status rule reads. Analysis lock held for all of it. */
#ifndef TW_REPORT_EMIT_H
#define TW_REPORT_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "report/report.h"

/* Writes `r` with every writer unless a suppression matches it (the rule counts it). Sets its
 * severity (when the detector did not), whether it fails, and its fingerprint. Returns true if
 * written. */
bool tw_report_emit(struct tw_report *r);

/* Reports written (not suppressed) by this process; those among them that THREADWATCH_FAIL_ON
 * names (they change the exit status). */
uint64_t tw_report_count(void);
uint64_t tw_report_failing_count(void);

/* Whether THREADWATCH_FAIL_ON names report r (its severity set). */
bool tw_report_fails(const struct tw_report *r);

/* Writes a line to the text log (the summary line, notices). */
void tw_report_log_line(const char *line);

/* Renders a block of text (the contention table) into the text log's buffered output. */
struct tw_out;
void tw_report_log_render(void (*render)(struct tw_out *o, void *ctx), void *ctx);

/* At initialisation: a copy of stdout when a writer writes there (THREADWATCH_LOG=stdout). */
void tw_report_init(void);

/* At exit, after the exit-time reports: each writer with an end gets it (its file made and begun
 * if no report was written: an empty SARIF document), then one line per suppression rule that
 * matched (and with THREADWATCH_VERBOSE=1, per rule that never did). Analysis lock held. */
void tw_report_at_exit(void);

/* threadwatch_check_leaks_text: from tw_report_capture(buf, size) to tw_report_capture_end(), the
 * text of every report emitted is also copied into buf (NUL-terminated, cut to size). _end
 * returns the threads those reports stood for and sets *cut when the text did not fit. Analysis
 * lock held from one to the other. */
void tw_report_capture(char *buf, size_t size);
uint64_t tw_report_capture_end(bool *cut);

/* Opens the report files now (at start-up, when the process runs as root: a server that drops
 * privileges later could not open them any more). Analysis lock held or before any thread. */
void tw_report_open_early(void);

/* At exit: the files opened early that no report was written to, and that we created, are removed
 * (a clean program leaves no file behind, as when they are opened on the first report). */
void tw_report_close_unused(void);

/* In the forked child: forget the parent's report count, reopen %p outputs. */
void tw_report_after_fork_child(void);

#endif
