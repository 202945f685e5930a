/* Formatters shared by the writers and the dump (format.h). */
#include "report/format.h"

#include <stdio.h>

const char *tw_state_name(enum tw_tstate s) {
  return s == TW_TS_BLOCKED    ? "blocked"
         : s == TW_TS_EXITED   ? "exited"
         : s == TW_TS_SLEEPING ? "sleeping"
                               : "running";
}

void tw_format_duration(char *buf, size_t n, uint64_t ns) {
  if (ns >= 60ull * 1000000000ull) snprintf(buf, n, "%.1fmin", (double)ns / 60e9);
  else if (ns >= 1000000000ull) snprintf(buf, n, "%.2fs", (double)ns / 1e9);
  else snprintf(buf, n, "%.0fms", (double)ns / 1e6);
}

void tw_format_who(struct tw_out *o, const struct tw_report_thread *t) {
  tw_out_fmt(o, "T%llu", (unsigned long long)t->id);
  if (t->name[0]) {
    char safe[sizeof(t->name)];
    size_t k = 0;
    for (; k + 1 < sizeof(safe) && t->name[k]; k++)
      safe[k] = (unsigned char)t->name[k] < 0x20 || t->name[k] == 0x7f ? '?' : t->name[k];
    safe[k] = '\0';
    tw_out_fmt(o, " \"%s\"", safe);
  }
  if (t->tid > 0) tw_out_fmt(o, " (tid %d)", t->tid);
}
