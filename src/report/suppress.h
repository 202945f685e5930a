/* Suppressions: `KIND:PATTERN` and `KIND/WHAT:PATTERN` lines (KIND `*`: any kind); a report whose
 * stacks match is not written. Each rule counts the reports it suppressed; at exit one line per
 * rule that matched says how often (and, with THREADWATCH_VERBOSE=1, one per rule that never did). */
#ifndef TW_SUPPRESS_H
#define TW_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/symbolize.h"

struct tw_suppressions;

/* Parses suppressions text. Returns 0, or -EINVAL with one line in err (line number and reason). */
int tw_suppress_parse(struct tw_suppressions **out, const char *text, char *err, size_t n);
void tw_suppress_free(struct tw_suppressions *s);

/* The index of the first rule of `kind` (or `*`), and of `what` when the rule names one, whose
 * pattern matches the frame's function, source file (full path or base name) or module base name;
 * -1 when none does. A rule with a WHAT never matches a NULL what. */
int tw_suppress_match(const struct tw_suppressions *s, const char *kind, const char *what,
                      const struct tw_frame *f);
/* tw_suppress_match(s, kind, NULL, f) >= 0. */
bool tw_suppress_match_frame(const struct tw_suppressions *s, const char *kind,
                             const struct tw_frame *f);

/* Counts one report suppressed by rule `rule`; the count so far. Analysis lock held. */
void tw_suppress_hit(struct tw_suppressions *s, int rule);
uint64_t tw_suppress_hits(const struct tw_suppressions *s, int rule);

/* Calls line() with one text line (newline included) per rule that matched: "==PID== threadwatch:
 * suppression 'KIND:PATTERN' (FILE:LINE) matched N reports"; with verbose, also one per rule that
 * never matched ("... never matched"). `file` is the suppressions file (its base name is shown). */
void tw_suppress_summary(const struct tw_suppressions *s, const char *file, long pid, bool verbose,
                         void (*line)(const char *text));

/* Loads THREADWATCH_SUPPRESS into the process-wide set. A file that cannot be read (missing, not a
 * regular file, over TW_SUPPRESS_MAX_BYTES) is one line on stderr and no suppressions: the program
 * runs. A file that does not parse (a bad line, a NUL byte) is one line and exit status 2, before
 * main, like a bad option value. */
void tw__suppress_load(void);
struct tw_suppressions *tw__suppressions(void);

#endif
