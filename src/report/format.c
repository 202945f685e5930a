/* Formatters shared by the writers and the dump (format.h). */
#include "report/format.h"

#include <stdio.h>

const char *tw_state_name(enum tw_tstate s) {
  return s == TW_TS_BLOCKED ? "blocked" : s == TW_TS_EXITED ? "exited" : "running";
}

void tw_format_duration(char *buf, size_t n, uint64_t ns) {
  if (ns >= 60ull * 1000000000ull) snprintf(buf, n, "%.1fmin", (double)ns / 60e9);
  else if (ns >= 1000000000ull) snprintf(buf, n, "%.2fs", (double)ns / 1e9);
  else snprintf(buf, n, "%.0fms", (double)ns / 1e6);
}

/* The thread name of a report, with control bytes replaced (they must not fake report lines). */
static void safe_name(char *safe, size_t n, const char *name) {
  size_t k = 0;
  for (; k + 1 < n && name[k]; k++)
    safe[k] = (unsigned char)name[k] < 0x20 || name[k] == 0x7f ? '?' : name[k];
  safe[k] = '\0';
}

void tw_format_who(struct tw_out *o, const struct tw_report_thread *t) {
  char label[64];
  tw_format_label(label, sizeof(label), t->id, t->name);
  tw_out_str(o, label);
  if (t->tid > 0) tw_out_fmt(o, " (tid %d)", t->tid);
}

void tw_format_label(char *buf, size_t n, uint64_t id, const char *name) {
  char safe[sizeof(((struct tw_report_thread *)0)->name)];
  safe_name(safe, sizeof(safe), name ? name : "");
  if (safe[0]) snprintf(buf, n, "T%llu \"%s\"", (unsigned long long)id, safe);
  else snprintf(buf, n, "T%llu", (unsigned long long)id);
}
