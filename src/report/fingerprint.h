/* The stable fingerprint of a report: the same bug gives the same fingerprint in every run, under
 * ASLR, from any build directory; different bugs give different ones. It hashes (64-bit FNV-1a,
 * 16 hex digits) the kind, the what, and for each thread the report is about (each edge of a cycle,
 * each group of a surge) the program's own frames of its stacks by function name and source file
 * base name (a frame without debug information by its function name; one without a name is left
 * out): no address, no line number, no module path, no thread id, no count, no object address. Threads with
 * the same stacks count once, in any order. A thread-leak of running or exited threads uses their
 * creation stack only. When no frame of a report is the program's (tw_frame_is_program), every
 * named frame is used instead. docs/report-format.md states the same. */
#ifndef TW_REPORT_FINGERPRINT_H
#define TW_REPORT_FINGERPRINT_H

#include "report/report.h"

#define TW_FINGERPRINT_LEN 16

/* Writes the fingerprint of r (16 lower-case hex digits and a NUL). Analysis lock held (it
 * symbolizes). */
void tw_report_fingerprint(const struct tw_report *r, char out[TW_FINGERPRINT_LEN + 1]);

#endif
