/* The rule table (report/rules.inc): every kind/what with its default severity, SARIF rule name,
 * description and help. Plain data; also compiled into the CLI (tools/), which renders saved JSON
 * Lines as SARIF and JUnit with the same rules. */
#ifndef TW_REPORT_RULES_H
#define TW_REPORT_RULES_H

#include <stddef.h>

struct tw_rule {
  const char *kind;
  const char *what;     /* "" for the kind's own row */
  const char *severity; /* the default: "error" or "warning" */
  const char *name;     /* SARIF rule name, PascalCase */
  const char *short_desc;
  const char *help;
};

/* The table, in the order of rules.inc; *n is set to its length. */
const struct tw_rule *tw_rules(size_t *n);

/* The index of the row of kind/what, else of the kind's own row (what NULL or unknown), else -1
 * (an unknown kind). */
int tw_rule_index(const char *kind, const char *what);

/* Whether `kind` is a known kind, and `what` (NULL: any) one of its rows. */
int tw_rule_known(const char *kind, const char *what);

#endif
