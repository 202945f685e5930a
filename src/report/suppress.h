/* Suppressions: `KIND:PATTERN` lines; a report whose stacks match is not written. */
#ifndef TW_SUPPRESS_H
#define TW_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "report/symbolize.h"

struct tw_suppressions;

/* Parses suppressions text. Returns 0, or -EINVAL with one line in err (line number and reason). */
int tw_suppress_parse(struct tw_suppressions **out, const char *text, char *err, size_t n);
void tw_suppress_free(struct tw_suppressions *s);

/* True if a rule of `kind` (or `*`) matches the frame's function, source file (full path or base
 * name) or module base name. */
bool tw_suppress_match_frame(const struct tw_suppressions *s, const char *kind,
                             const struct tw_frame *f);

/* Loads THREADWATCH_SUPPRESS into the process-wide set. A file that cannot be read (missing, not a
 * regular file, over TW_SUPPRESS_MAX_BYTES) is one line on stderr and no suppressions: the program
 * runs. A file that does not parse (a bad line, a NUL byte) is one line and exit status 2, before
 * main, like a bad option value. */
void tw__suppress_load(void);
const struct tw_suppressions *tw__suppressions(void);

#endif
