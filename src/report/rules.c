/* The rule table (rules.h): rows of rules.inc, looked up by kind and what. */
#include "report/rules.h"

#include <string.h>

static const struct tw_rule rules[] = {
#define TW_RULE(kind, what, severity, name, short_desc, help) {kind, what, severity, name, short_desc, help},
#include "report/rules.inc"
#undef TW_RULE
};

const struct tw_rule *tw_rules(size_t *n) {
  *n = sizeof(rules) / sizeof(rules[0]);
  return rules;
}

int tw_rule_index(const char *kind, const char *what) {
  int own = -1;
  if (!kind) return -1;
  for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
    if (strcmp(rules[i].kind, kind) != 0) continue;
    if (rules[i].what[0] == '\0')
      own = (int)i;
    else if (what && strcmp(rules[i].what, what) == 0)
      return (int)i;
  }
  return own;
}

int tw_rule_known(const char *kind, const char *what) {
  int i = tw_rule_index(kind, what);
  if (i < 0) return 0;
  return !what || rules[i].what[0] != '\0' ? 1 : strcmp(what, "") == 0;
}
