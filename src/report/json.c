/* JSON Lines writer: one object per report on one line (schema in docs/report-format.md). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "report/format.h"
#include "report/symbolize.h"
#include "report/writer.h"
#include "runtime/stackdepot.h"

void tw_report_json_stack(struct tw_out *o, uint32_t stack) {
  const uintptr_t *pcs;
  int n = tw_depot_get(stack, &pcs);
  tw_out_str(o, "[");
  int num = 0;
  for (int i = 0; i < n; i++) {
    struct tw_frame fr[TW_MAX_INLINE];
    int nf = tw_symbolize(pcs[i], fr, TW_MAX_INLINE);
    for (int j = 0; j < nf; j++) {
      const struct tw_frame *f = &fr[j];
      tw_out_fmt(o, "%s{\"pc\":\"0x%lx\",\"function\":", num++ ? "," : "", (unsigned long)f->pc);
      tw_out_json_str(o, f->function);
      if (f->file) {
        tw_out_str(o, ",\"file\":");
        tw_out_json_str(o, f->file);
        tw_out_fmt(o, ",\"line\":%d", f->line);
      }
      tw_out_str(o, ",\"module\":");
      tw_out_json_str(o, f->module);
      tw_out_fmt(o, ",\"module_offset\":\"0x%lx\"", (unsigned long)f->module_offset);
      if (f->build_id) tw_out_fmt(o, ",\"build_id\":\"%s\"", f->build_id);
      if (f->inlined) tw_out_str(o, ",\"inlined\":true");
      tw_out_str(o, "}");
    }
  }
  tw_out_str(o, "]");
}

static void json_thread(struct tw_out *o, const struct tw_report_thread *t) {
  tw_out_fmt(o, "{\"id\":%llu,\"tid\":%d,\"name\":", (unsigned long long)t->id, t->tid);
  tw_out_json_str(o, t->name);
  tw_out_fmt(o, ",\"state\":\"%s\"", tw_state_name(t->state));
  if (tw_tstate_waits(t->state)) {
    tw_out_fmt(o, ",\"wait\":{\"call\":\"%s\",\"object\":", tw_call_name(t->wait.call));
    tw_out_json_str(o, t->object);
    if (t->note[0]) {
      tw_out_str(o, ",\"note\":");
      tw_out_json_str(o, t->note);
    }
    if (tw_wait_json_fd(t->wait.call)) tw_out_fmt(o, ",\"fd\":%d", t->wait.fd);
    else if (tw_wait_json_address(t->wait.call))
      tw_out_fmt(o, ",\"address\":\"0x%lx\"", (unsigned long)t->wait.obj);
    if (t->nheld_by) {
      tw_out_str(o, ",\"held_by\":[");
      for (uint8_t i = 0; i < t->nheld_by; i++)
        tw_out_fmt(o, "%s%llu", i ? "," : "", (unsigned long long)t->held_by[i]);
      tw_out_str(o, "]");
    }
    tw_out_fmt(o, ",\"for_ms\":%llu}", (unsigned long long)(t->wait_ns / 1000000));
  }
  if (!tw_tstate_waits(t->state) && t->note[0]) {
    tw_out_str(o, ",\"note\":");
    tw_out_json_str(o, t->note);
  }
  if (t->access) tw_out_fmt(o, ",\"access\":\"%s\"", t->access);
  if (t->access || t->nlocks_held) {
    tw_out_str(o, ",\"locks_held\":[");
    for (uint8_t i = 0; i < t->nlocks_held; i++) {
      tw_out_fmt(o, "%s{\"address\":\"0x%lx\",\"name\":", i ? "," : "",
                 (unsigned long)t->locks_held[i].addr);
      tw_out_json_str(o, t->locks_held[i].name);
      tw_out_str(o, "}");
    }
    tw_out_str(o, "]");
  }
  tw_out_fmt(o, ",\"parent\":%llu,\"stack\":", (unsigned long long)t->parent);
  tw_report_json_stack(o, t->stack);
  tw_out_str(o, ",\"created_at\":");
  tw_report_json_stack(o, t->created_at);
  tw_out_str(o, "}");
}

#ifndef TW_VERSION
#define TW_VERSION "0.0.0"
#endif

/* The executable of this process, read once per process (a forked child has the same; an exec'd
 * program is a new process with its own copy of the library). */
static const char *exe_path(void) {
  static char exe[4096];
  static long exe_pid;
  long pid = (long)getpid();
  if (exe_pid != pid) {
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    exe_pid = pid;
  }
  return exe;
}

/* Now as RFC 3339 in UTC with milliseconds: 2026-11-22T14:03:07.125Z. */
static void rfc3339_now(char *buf, size_t n) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

void tw_report_json(struct tw_out *o, const struct tw_report *r, long pid) {
  tw_out_str(o, "{\"kind\":");
  tw_out_json_str(o, r->kind);
  tw_out_str(o, ",\"what\":");
  tw_out_json_str(o, r->what);
  tw_out_fmt(o, ",\"severity\":\"%s\"", r->severity ? r->severity : "error");
  tw_out_str(o, ",\"fingerprint\":");
  tw_out_json_str(o, r->fingerprint);
  tw_out_str(o, ",\"message\":");
  tw_out_json_str(o, r->message);
  char now[40];
  rfc3339_now(now, sizeof(now));
  tw_out_fmt(o, ",\"version\":\"%s\",\"time\":\"%s\",\"exe\":", TW_VERSION, now);
  tw_out_json_str(o, exe_path());
  tw_out_fmt(o, ",\"pid\":%ld,\"count\":%u,\"threads\":[", pid, r->count);
  for (uint32_t i = 0; i < r->nthreads; i++) {
    if (i) tw_out_str(o, ",");
    json_thread(o, &r->threads[i]);
  }
  uint32_t counted = r->nthreads - r->ncontext;
  tw_out_fmt(o, "],\"omitted_threads\":%u", r->count > counted ? r->count - counted : 0);
  if (r->limit) tw_out_fmt(o, ",\"limit\":%llu", (unsigned long long)r->limit);
  if (r->ngroups) {
    tw_out_str(o, ",\"groups\":[");
    for (uint32_t g = 0; g < r->ngroups; g++) {
      tw_out_fmt(o, "%s{\"count\":%u,\"created_at\":", g ? "," : "", r->groups[g].count);
      tw_report_json_stack(o, r->groups[g].created_at);
      tw_out_str(o, "}");
    }
    tw_out_str(o, "]");
  }
  if (r->ncounts) {
    tw_out_fmt(o, ",\"period_ms\":%llu,\"counts\":[", (unsigned long long)(r->period_ns / 1000000));
    for (uint32_t i = 0; i < r->ncounts; i++) tw_out_fmt(o, "%s%u", i ? "," : "", r->counts[i]);
    tw_out_str(o, "]");
  }
  if (r->nlocks) {
    tw_out_fmt(o, ",\"cycle_length\":%u,\"locks\":[", r->cycle_len);
    for (uint32_t i = 0; i < r->nlocks; i++) {
      const struct tw_report_lock *l = &r->locks[i];
      tw_out_fmt(o, "%s{\"id\":\"M%u\",\"address\":\"0x%lx\",\"kind\":\"%s\",\"name\":", i ? "," : "",
                 i + 1, (unsigned long)l->addr, l->kind == 1   ? "rwlock"
                                             : l->kind == 2 ? "spinlock"
                                                            : "mutex");
      tw_out_json_str(o, l->name);
      if (l->symbol[0]) {
        tw_out_str(o, ",\"symbol\":");
        tw_out_json_str(o, l->symbol);
      }
      tw_out_str(o, ",\"first_seen\":");
      tw_report_json_stack(o, l->first_seen);
      tw_out_str(o, "}");
    }
    tw_out_str(o, "],\"edges\":[");
    for (uint32_t i = 0; i < r->nedges; i++) {
      const struct tw_report_edge *e = &r->edges[i];
      tw_out_fmt(o, "%s{\"from\":\"M%u\",\"to\":\"M%u\",\"thread\":%llu,\"held_mode\":\"%s\","
                 "\"acquire_mode\":\"%s\",\"seen\":%u,\"acquired_at\":", i ? "," : "", e->from + 1,
                 e->to + 1, (unsigned long long)e->thread, e->from_mode ? "read" : "write",
                 e->to_mode ? "read" : "write", e->seen);
      tw_report_json_stack(o, e->stack_to);
      tw_out_str(o, ",\"held_since\":");
      tw_report_json_stack(o, e->stack_from);
      tw_out_str(o, "}");
    }
    tw_out_str(o, "],\"hint\":");
    tw_out_json_str(o, r->hint);
  }
  if (r->locked_at) {
    tw_out_str(o, ",\"locked_at\":");
    tw_report_json_stack(o, r->locked_at);
  }
  if (r->threshold_ns)
    tw_out_fmt(o, ",\"threshold_ms\":%llu", (unsigned long long)(r->threshold_ns / 1000000));
  if (r->signalled_by) {
    tw_out_fmt(o, ",\"signalled_by\":%llu,\"signalled_at\":", (unsigned long long)r->signalled_by);
    tw_report_json_stack(o, r->signalled_at);
  }
  if (r->object[0]) {
    tw_out_str(o, ",\"object\":");
    tw_out_json_str(o, r->object);
  }
  if (r->previous_what) {
    tw_out_str(o, ",\"previous\":{\"event\":");
    tw_out_json_str(o, r->previous_what);
    tw_out_fmt(o, ",\"thread\":%llu,\"stack\":", (unsigned long long)r->previous_by);
    tw_report_json_stack(o, r->previous_at);
    tw_out_str(o, "}");
  }
  tw_out_fmt(o, ",\"dropped_events\":%llu}\n", (unsigned long long)r->dropped);
}
