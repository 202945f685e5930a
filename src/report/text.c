/* Text writer: the headline, then each thread with its stacks, like the sanitizer reports. */
#include <stdio.h>
#include <string.h>

#include "base/options.h"
#include "report/format.h"
#include "report/symbolize.h"
#include "report/writer.h"
#include "runtime/stackdepot.h"

void tw_report_text_stack(struct tw_out *o, uint32_t stack, const char *indent) {
  const uintptr_t *pcs;
  int n = tw_depot_get(stack, &pcs);
  if (n == 0) {
    tw_out_fmt(o, "%s(stack unavailable)\n", indent);
    return;
  }
  int num = 0;
  for (int i = 0; i < n; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(pcs[i], f, TW_MAX_INLINE);
    for (int j = 0; j < nf; j++) {
      tw_out_fmt(o, "%s#%d 0x%lx in %s", indent, num++, (unsigned long)f[j].pc, f[j].function);
      if (f[j].file) tw_out_fmt(o, " %s:%d", f[j].file, f[j].line);
      /* Without a symbol, module+offset is what `addr2line -e MODULE` resolves offline. */
      if (strcmp(f[j].function, "??") == 0 && strcmp(f[j].module, "??") != 0)
        tw_out_fmt(o, " (%s+0x%lx)", f[j].module, (unsigned long)f[j].module_offset);
      else tw_out_fmt(o, " (%s)", f[j].module);
      tw_out_fmt(o, "%s\n", f[j].inlined ? " [inlined]" : "");
    }
  }
}

static const char *lock_kind(uint8_t kind) { return kind == 1 ? "rwlock" : "mutex"; }
static const char *mode_name(uint8_t mode, uint8_t kind) {
  return kind == 0 ? "" : mode == 1 ? " for reading" : " for writing";
}

/* "no lock" or "mutex 0x... "name", ..." for the locks a thread held. */
static void text_locks_held(struct tw_out *o, const struct tw_report_thread *t) {
  if (!t->nlocks_held) tw_out_str(o, "no lock");
  for (uint8_t i = 0; i < t->nlocks_held; i++) {
    tw_out_fmt(o, "%s0x%lx", i ? ", " : "", (unsigned long)t->locks_held[i].addr);
    if (t->locks_held[i].name[0]) tw_out_fmt(o, " \"%s\"", t->locks_held[i].name);
  }
}

/* A lock-order cycle: the cycle line, each lock, then each edge with its two stacks. */
static void text_cycle(struct tw_out *o, const struct tw_report *r) {
  tw_out_str(o, "  cycle:");
  for (uint32_t i = 0; i < r->nlocks; i++) tw_out_fmt(o, " M%u =>", i + 1);
  tw_out_fmt(o, " %s\n", r->cycle_len > r->nlocks ? "... => M1 (cut)" : "M1");
  for (uint32_t i = 0; i < r->nlocks; i++) {
    const struct tw_report_lock *l = &r->locks[i];
    if (strncmp(l->name, "class ", 6) == 0) /* class-order: a class is a site, not an address */
      tw_out_fmt(o, "  M%u = %s locks of the %s", i + 1, lock_kind(l->kind), l->name);
    else tw_out_fmt(o, "  M%u = %s 0x%lx", i + 1, lock_kind(l->kind), (unsigned long)l->addr);
    if (l->symbol[0]) tw_out_fmt(o, " (%s)", l->symbol);
    if (l->name[0] && strncmp(l->name, "class ", 6) != 0) tw_out_fmt(o, " \"%s\"", l->name);
    tw_out_str(o, ", first seen taken at:\n");
    tw_report_text_stack(o, l->first_seen, "    ");
  }
  for (uint32_t i = 0; i < r->nedges; i++) {
    const struct tw_report_edge *e = &r->edges[i];
    const struct tw_report_lock *from = &r->locks[e->from];
    uint8_t to_kind = e->to < r->nlocks ? r->locks[e->to].kind : 0; /* cut cycles: not listed */
    const char *name = ""; /* the report lists each edge thread with its name */
    for (uint32_t k = 0; k < r->nthreads; k++)
      if (r->threads[k].id == e->thread) name = r->threads[k].name;
    char who[48];
    tw_format_label(who, sizeof(who), e->thread, name);
    tw_out_fmt(o, "  M%u => M%u: %s took M%u%s while holding M%u%s (order seen %u time%s):\n",
               e->from + 1, e->to + 1, who, e->to + 1,
               mode_name(e->to_mode, to_kind), e->from + 1, mode_name(e->from_mode, from->kind),
               e->seen, e->seen == 1 ? "" : "s");
    tw_report_text_stack(o, e->stack_to, "    ");
    tw_out_fmt(o, "   M%u had been taken at:\n", e->from + 1);
    tw_report_text_stack(o, e->stack_from, "    ");
  }
  if (r->hint[0]) tw_out_fmt(o, "  hint: %s\n", r->hint);
}

/* A report that THREADWATCH_FAIL_ON does not name says so: it will not fail the job. */
static void text_status_note(struct tw_out *o, const struct tw_report *r) {
  if (!r->fails)
    tw_out_fmt(o, "  (a %s: it does not change the exit status; THREADWATCH_FAIL_ON=%s)\n",
               r->severity ? r->severity : "report", tw__opt.fail_on);
}

void tw_report_text(struct tw_out *o, const struct tw_report *r, long pid) {
  tw_out_fmt(o, "==%ld== threadwatch: %s: %s\n", pid, r->kind, r->message);
  if (r->nlocks) {
    text_cycle(o, r);
    text_status_note(o, r);
    tw_out_str(o, "\n");
    return;
  }
  uint32_t shown = r->same_stacks && r->nthreads ? 1 : r->nthreads;
  for (uint32_t i = 0; i < shown; i++) {
    const struct tw_report_thread *t = &r->threads[i];
    tw_out_str(o, "  ");
    tw_format_who(o, t);
    if (t->access) {
      tw_out_fmt(o, " %s access, holding ", t->access);
      text_locks_held(o, t);
      tw_out_str(o, ":\n");
      tw_report_text_stack(o, t->stack, "    ");
    } else if (t->state == TW_TS_BLOCKED) {
      char d[32];
      tw_format_duration(d, sizeof(d), t->wait_ns);
      char held[64] = "";
      if (t->nheld_by) snprintf(held, sizeof(held), " (held by T%llu)", (unsigned long long)t->held_by[0]);
      tw_out_fmt(o, " blocked in %s() on %s%s for %s%s%s:\n", tw_call_name(t->wait.call), t->object,
                 held, d, t->note[0] ? "; " : "", t->note);
      tw_report_text_stack(o, t->stack, "    ");
    } else {
      tw_out_fmt(o, " %s%s%s%s%s\n", tw_state_name(t->state),
                 t->state == TW_TS_RUNNING ? " (not in a watched blocking call)" : "",
                 t->note[0] ? ": " : "", t->note, t->stack ? ":" : "");
      if (t->stack) tw_report_text_stack(o, t->stack, "    ");
    }
    if (!t->access && t->nlocks_held) {
      tw_out_str(o, "  holding ");
      text_locks_held(o, t);
      tw_out_str(o, "\n");
    }
    if (t->created_at) {
      tw_out_fmt(o, "  created by T%llu at:\n", (unsigned long long)t->parent);
      tw_report_text_stack(o, t->created_at, "    ");
    }
  }
  for (uint32_t g = 0; g < r->ngroups; g++) {
    tw_out_fmt(o, "  %u live thread%s created at:\n", r->groups[g].count, r->groups[g].count == 1 ? "" : "s");
    tw_report_text_stack(o, r->groups[g].created_at, "    ");
  }
  if (r->same_stacks && r->count > shown && shown > 0) {
    /* The other threads of a group, by number: the listed ones first, then the rest. */
    uint32_t named = 0, total = r->count - shown;
    tw_out_fmt(o, "  ... and %u more thread%s with the same stacks (", total, total == 1 ? "" : "s");
    for (uint32_t i = shown; i < r->nthreads; i++, named++)
      tw_out_fmt(o, "%sT%llu", named ? ", " : "", (unsigned long long)r->threads[i].id);
    for (uint32_t i = 0; i < r->nmore; i++, named++)
      tw_out_fmt(o, "%sT%llu", named ? ", " : "", (unsigned long long)r->more_ids[i]);
    tw_out_str(o, total > named ? ", ...)\n" : ")\n");
  }
  if (r->locked_at) {
    tw_out_str(o, "  the lock was first taken at:\n");
    tw_report_text_stack(o, r->locked_at, "    ");
  }
  if (r->previous_what) {
    if (r->previous_by) tw_out_fmt(o, "  %s earlier by T%llu at:\n", r->previous_what,
                                   (unsigned long long)r->previous_by);
    else tw_out_fmt(o, "  %s earlier at:\n", r->previous_what);
    tw_report_text_stack(o, r->previous_at, "    ");
  }
  if (r->signalled_by) {
    tw_out_fmt(o, "  T%llu signalled the condvar when no thread was waiting, at:\n",
               (unsigned long long)r->signalled_by);
    tw_report_text_stack(o, r->signalled_at, "    ");
  }
  if (r->dropped)
    tw_out_fmt(o, "  note: %llu events were dropped (full rings); this report may be incomplete\n",
               (unsigned long long)r->dropped);
  text_status_note(o, r);
  tw_out_str(o, "\n");
}
