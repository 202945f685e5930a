/* Small formatters shared by the report writers and the thread dump. */
#ifndef TW_REPORT_FORMAT_H
#define TW_REPORT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "base/out.h"
#include "report/report.h"

/* "running", "blocked", "exited". */
const char *tw_state_name(enum tw_tstate s);

/* "203ms", "2.50s", "1.5min". */
void tw_format_duration(char *buf, size_t n, uint64_t ns);

/* `T2 "name" (tid 123)`: a name is the program's data, so control bytes become '?' (they must not
 * fake report lines). The tid only when known. */
void tw_format_who(struct tw_out *o, const struct tw_report_thread *t);

/* `T2 "name"`, or `T2` for a thread without a name, into buf (control bytes of the name as '?'). */
void tw_format_label(char *buf, size_t n, uint64_t id, const char *name);

#endif
