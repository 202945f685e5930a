/* Report emission: suppression check (and its counts), the fingerprint, every writer of the writer
 * table, output files, the count of reports written, the text copy a threadwatch_check_leaks_text
 * caller asked for, and the writers' end at exit. */
#include "report/emit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/options.h"
#include "base/msg.h"
#include "base/out.h"
#include "base/real.h"
#include "base/stats.h"
#include "base/tw.h"
#include "report/build.h"
#include "report/fingerprint.h"
#include "report/pools.h"
#include "report/suppress.h"
#include "report/symbolize.h"
#include "report/writer.h"
#include "runtime/stackdepot.h"

enum {
#define TW_WRITER(ID, OPTION, field, stderr_default, begin, report, end) TW_WRITER_##ID,
#include "report/writers.inc"
#undef TW_WRITER
  TW_WRITER_COUNT
};

static const struct writer {
  const char *name;   /* "text", "JSON", "SARIF": in messages */
  const char *option; /* its THREADWATCH_ variable */
  const char *dest;   /* the option's value */
  bool stderr_default;
  tw_writer_begin_fn begin;
  tw_writer_report_fn report;
  tw_writer_end_fn end;
} writers[] = {
#define TW_WRITER(ID, OPTION, field, stderr_default, begin, report, end) \
  {#ID, OPTION, tw__opt.field, stderr_default, begin, report, end},
#include "report/writers.inc"
#undef TW_WRITER
};

/* One output per writer, opened on its first report (at start-up when running as root, before the
 * program can drop privileges). Analysis lock held for all of this. */
struct sink {
  int fd;         /* -1 until opened */
  int failed;     /* opening failed: said once, then fall back to stderr (text) or nothing */
  long pid;       /* the pid the file was opened for (a forked child with %p reopens) */
  bool begun;     /* begin() ran for this file */
  bool created;   /* we made the file (and may remove it at exit if nothing was written to it) */
  bool written;   /* something was written to it */
  char path[TW_OPT_STR_MAX + 32];
  struct tw_file_id id; /* the file we opened: the fd is checked against it before each write */
  struct tw_out out;
};
static struct sink sinks[TW_WRITER_COUNT] = {
#define TW_WRITER(ID, OPTION, field, stderr_default, begin, report, end) {.fd = -1},
#include "report/writers.inc"
#undef TW_WRITER
};
static _Atomic uint64_t reports_written, reports_failing;

/* The writer's name in messages: "text", "JSON". */
static const char *label(const struct writer *w) { return w->stderr_default ? "text" : w->name; }

static bool to_stderr(const struct writer *w) {
  return w->stderr_default && (w->dest[0] == '\0' || strcmp(w->dest, "stderr") == 0 ||
                               strcmp(w->dest, "/dev/stderr") == 0);
}

static bool to_stdout(const struct writer *w) {
  return w->stderr_default && (strcmp(w->dest, "stdout") == 0 || strcmp(w->dest, "/dev/stdout") == 0);
}

/* The program's stdout as the tool writes to it: a copy made at initialisation (close-on-exec,
 * high), so that a program that closes or reuses fd 1 later never gets our lines in its files. -1
 * when there was no stdout. */
static int stdout_copy = -1;

void tw_report_init(void) {
  for (size_t i = 0; i < TW_WRITER_COUNT; i++)
    if (to_stdout(&writers[i]) && stdout_copy < 0) {
      stdout_copy = TW_REAL_FN(fcntl)(1, F_DUPFD_CLOEXEC, TW_TOOL_FD_BASE);
      if (stdout_copy < 0) stdout_copy = TW_REAL_FN(fcntl)(1, F_DUPFD_CLOEXEC, 3);
    }
}

/* The fd to write this writer's report to, opened or checked now; -1 for none. */
static int sink_fd(const struct writer *w, struct sink *s) {
  long pid = (long)getpid();
  if (to_stderr(w)) return tw__stderr_fd();
  if (to_stdout(w)) return stdout_copy;
  if (s->fd >= 0 && s->pid == pid) {
    if (tw__fd_same(s->fd, &s->id)) return s->fd;
    /* The program closed our fd (a daemon closing every fd), maybe reusing the number for a
     * file of its own: never write there. Forget the number (it is not ours to close) and open
     * the file again. */
    s->fd = -1;
  }
  if (s->failed) return w->stderr_default ? tw__stderr_fd() : -1;
  char path[TW_OPT_STR_MAX + 32], why[256] = "";
  bool created = false;
  int rc = tw__expand_pid(w->dest, pid, path, sizeof(path));
  int fd = rc == 0 ? tw__open_report_file(path, why, sizeof(why), &created) : rc;
  if (fd < 0) {
    char quoted[TW_OPT_STR_MAX + 64];
    tw_msg_quote(quoted, sizeof(quoted), path);
    if (w->stderr_default)
      tw_msg("threadwatch: cannot open %s report file %s: %s; writing the report to stderr",
             w->option, quoted, why[0] ? why : strerror(-fd));
    else
      tw_msg("threadwatch: cannot open %s report file %s: %s; %s reports are off", w->option,
             quoted, why[0] ? why : strerror(-fd), w->name);
    s->failed = 1;
    return w->stderr_default ? tw__stderr_fd() : -1;
  }
  s->fd = fd;
  s->pid = pid;
  s->begun = false;
  s->created = created;
  s->written = false;
  snprintf(s->path, sizeof(s->path), "%s", path);
  tw__fd_id(fd, &s->id);
  return fd;
}

static void sink_finish(const struct writer *w, struct sink *s) {
  if (s->out.len) s->written = true;
  if (tw_out_flush(&s->out) != 0 && !s->failed) {
    tw_msg("threadwatch: writing the %s report failed: %s", label(w), strerror(-s->out.error));
    s->failed = 1; /* said once; later reports do not repeat it */
    tw_stat_add(write_errors, 1);
  }
}

void tw_report_close_unused(void) {
  for (size_t i = 0; i < TW_WRITER_COUNT; i++) {
    struct sink *s = &sinks[i];
    if (s->fd < 0 || !s->created || s->written || s->pid != (long)getpid()) continue;
    /* Only the file we made, still at its path (checked right before the unlink). */
    struct stat st;
    if (tw__fd_same(s->fd, &s->id) && lstat(s->path, &st) == 0 && st.st_dev == s->id.dev &&
        st.st_ino == s->id.ino && st.st_size == 0)
      unlink(s->path);
  }
}

void tw_report_open_early(void) {
  for (size_t i = 0; i < TW_WRITER_COUNT; i++)
    if (!to_stderr(&writers[i]) && !to_stdout(&writers[i]) && writers[i].dest[0])
      sink_fd(&writers[i], &sinks[i]);
}

/* The rule that matches a frame of the stack, or -1. */
static int frames_match(const struct tw_suppressions *sup, const struct tw_report *r, uint32_t stack) {
  const uintptr_t *pcs;
  int n = tw_depot_get(stack, &pcs);
  for (int i = 0; i < n; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(pcs[i], f, TW_MAX_INLINE);
    for (int j = 0; j < nf; j++) {
      int rule = tw_suppress_match(sup, r->kind, r->what, &f[j]);
      if (rule >= 0) return rule;
    }
  }
  return -1;
}

/* Whether a suppression matches the report; the rule that did counts it. */
static bool suppressed(const struct tw_report *r) {
  if (tw__opt.default_suppressions && tw_report_runtime_owned(r)) return true;
  struct tw_suppressions *sup = tw__suppressions();
  if (!sup) return false;
  int rule = -1;
  for (uint32_t i = 0; i < r->nthreads && rule < 0; i++) {
    rule = frames_match(sup, r, r->threads[i].stack);
    if (rule < 0) rule = frames_match(sup, r, r->threads[i].created_at);
  }
  for (uint32_t i = 0; i < r->ngroups && rule < 0; i++) rule = frames_match(sup, r, r->groups[i].created_at);
  if (rule < 0) return false;
  tw_suppress_hit(sup, rule);
  return true;
}

/* The default severity of a report (docs/report-format.md): a stall, a surge, a growth and a
 * thread still alive at exit are warnings (an idle pool, a service thread the program never meant
 * to join); everything else is an error. A detector may set another one (leaks.c: threads that
 * piled up; misuse.c: locks held by the thread that ends the process are a warning). */
static const char *default_severity(const struct tw_report *r) {
  if (!strcmp(r->kind, "stall") || !strcmp(r->kind, "thread-surge") ||
      !strcmp(r->kind, "thread-growth"))
    return "warning";
  if (!strcmp(r->kind, "thread-leak") && r->what &&
      (!strcmp(r->what, "blocked") || !strcmp(r->what, "sleeping") || !strcmp(r->what, "running")))
    return "warning";
  return "error";
}

bool tw_report_fails(const struct tw_report *r) {
  char list[TW_OPT_STR_MAX], *save = NULL;
  snprintf(list, sizeof(list), "%s", tw__opt.fail_on);
  for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (!strcmp(w, "all") || !strcmp(w, r->severity)) return true;
    if (!strcmp(w, "none")) continue;
    char *slash = strchr(w, '/');
    if (slash) *slash++ = '\0';
    if (!strcmp(w, r->kind) && (!slash || (r->what && !strcmp(slash, r->what)))) return true;
  }
  return false;
}

/* Whether the writer is on: the text writer always (stderr by default), the others when their
 * option names a file. */
static bool enabled(const struct writer *w) { return w->stderr_default || w->dest[0]; }

/* threadwatch_check_leaks_text: the text of the reports made meanwhile, copied to the caller. */
static struct {
  char *buf;
  size_t size, used;
  bool cut;
  uint64_t threads;
} capture;
static struct tw_out capture_out; /* fd -1: the text stays in its buffer */

void tw_report_capture(char *buf, size_t size) {
  capture.buf = size ? buf : NULL;
  capture.size = size;
  capture.used = 0;
  capture.cut = false;
  capture.threads = 0;
  if (size) buf[0] = '\0';
}

uint64_t tw_report_capture_end(bool *cut) {
  if (cut) *cut = capture.cut;
  uint64_t n = capture.threads;
  capture.buf = NULL;
  capture.size = 0;
  return n;
}

static void capture_report(const struct tw_report *r) {
  capture.threads += r->count;
  tw_out_init(&capture_out, -1);
  tw_report_text(&capture_out, r, (long)getpid());
  size_t n = capture_out.len, room = capture.size - 1 - capture.used;
  if (n > room) {
    n = room;
    capture.cut = true;
  }
  memcpy(capture.buf + capture.used, capture_out.buf, n);
  capture.used += n;
  capture.buf[capture.used] = '\0';
}

bool tw_report_emit(struct tw_report *r) {
  if (suppressed(r)) {
    tw_stat_add(suppressed, 1);
    return false;
  }
  tw_report_fill_names(r); /* threadwatch_name_lock() names of the locks it lists */
  if (!r->severity) r->severity = default_severity(r);
  r->fails = tw_report_fails(r);
  tw_report_fingerprint(r, r->fingerprint);
  long pid = (long)getpid();
  for (size_t i = 0; i < TW_WRITER_COUNT; i++) {
    const struct writer *w = &writers[i];
    struct sink *s = &sinks[i];
    if (!enabled(w)) continue;
    int fd = sink_fd(w, s);
    if (fd < 0) continue;
    tw_out_init(&s->out, fd);
    if (!s->begun && w->begin) w->begin(&s->out, pid);
    s->begun = true;
    w->report(&s->out, r, pid);
    sink_finish(w, s);
  }
  if (capture.buf) capture_report(r);
  tw_add_relaxed(&reports_written, 1);
  if (r->fails) tw_add_relaxed(&reports_failing, 1);
  tw_stat_add(reports, 1);
  return true;
}

static void log_line(const char *line) { tw_report_log_line(line); }

void tw_report_at_exit(void) {
  long pid = (long)getpid();
  for (size_t i = 0; i < TW_WRITER_COUNT; i++) {
    const struct writer *w = &writers[i];
    struct sink *s = &sinks[i];
    if (!w->end || !enabled(w)) continue;
    int fd = sink_fd(w, s);
    if (fd < 0) continue;
    tw_out_init(&s->out, fd);
    if (!s->begun && w->begin) w->begin(&s->out, pid);
    s->begun = true;
    w->end(&s->out, pid);
    sink_finish(w, s);
  }
  tw_suppress_summary(tw__suppressions(), tw__opt.suppress, pid, tw__opt.verbose, log_line);
}

uint64_t tw_report_count(void) { return tw_load_relaxed(&reports_written); }
uint64_t tw_report_failing_count(void) { return tw_load_relaxed(&reports_failing); }

void tw_report_log_line(const char *line) {
  const struct writer *w = &writers[TW_WRITER_TEXT];
  struct sink *s = &sinks[TW_WRITER_TEXT];
  int fd = sink_fd(w, s);
  tw_out_init(&s->out, fd);
  tw_out_str(&s->out, line);
  sink_finish(w, s);
}

void tw_report_log_render(void (*render)(struct tw_out *o, void *ctx), void *ctx) {
  const struct writer *w = &writers[TW_WRITER_TEXT];
  struct sink *s = &sinks[TW_WRITER_TEXT];
  int fd = sink_fd(w, s);
  tw_out_init(&s->out, fd);
  render(&s->out, ctx);
  sink_finish(w, s);
}

void tw_report_after_fork_child(void) {
  tw_store_relaxed(&reports_written, 0);
  tw_store_relaxed(&reports_failing, 0);
  /* Files opened for the parent's pid are reopened under the child's pid on the next report when
   * the path has %p; without %p the child keeps appending to the same file. */
  for (size_t i = 0; i < TW_WRITER_COUNT; i++) {
    struct sink *s = &sinks[i];
    if (strstr(writers[i].dest, "%p") && s->fd >= 0) {
      if (tw__fd_same(s->fd, &s->id)) tw__close(s->fd);
      s->fd = -1;
    }
    if (s->fd >= 0) s->pid = (long)getpid();
    s->failed = 0;
  }
}
