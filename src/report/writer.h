/* The writers: each renders a struct tw_report into a buffered output (base/out.h). The table of
 * writers is report/writers.inc; report/emit.c opens each one's file and calls it. The stack
 * formatters are shared with the thread dump (report/dump.c). */
#ifndef TW_REPORT_WRITER_H
#define TW_REPORT_WRITER_H

#include <stdint.h>

#include "base/out.h"
#include "report/report.h"

/* One writer: begin (once per file, NULL: none), report (every report), end (at exit, NULL). */
typedef void (*tw_writer_begin_fn)(struct tw_out *o, long pid);
typedef void (*tw_writer_report_fn)(struct tw_out *o, const struct tw_report *r, long pid);
typedef void (*tw_writer_end_fn)(struct tw_out *o, long pid);

/* The text report: a headline, then each thread with its stacks, like the sanitizers' reports. */
void tw_report_text(struct tw_out *o, const struct tw_report *r, long pid);
/* JSON Lines: one object per report on one line (docs/report-format.md). */
void tw_report_json(struct tw_out *o, const struct tw_report *r, long pid);

/* SARIF 2.1.0 (report/sarif.c): begin makes the document when the file is empty, each report adds
 * a result so that the file stays a valid document, end leaves it as it is. */
void tw_report_sarif_begin(struct tw_out *o, long pid);
void tw_report_sarif(struct tw_out *o, const struct tw_report *r, long pid);
void tw_report_sarif_end(struct tw_out *o, long pid);

/* One stack: text frames (`#N 0xPC in f file:line (module)`, each line prefixed by `indent`), or a
 * JSON array of frame objects. */
void tw_report_text_stack(struct tw_out *o, uint32_t stack, const char *indent);
void tw_report_json_stack(struct tw_out *o, uint32_t stack);

#endif
