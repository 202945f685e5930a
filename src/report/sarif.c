/* SARIF writer (THREADWATCH_SARIF): one SARIF 2.1.0 document, one run, one result per report,
 * rendered by report/view.c from a view of the report.
 *
 * The file is a valid document after every report, so that a process that aborts or is killed
 * later leaves a file code scanning accepts: the document always ends with TW_SARIF_TRAILER, and a
 * new result is written over the trailer, followed by the trailer again, at the position the
 * trailer had. Processes that share the file (a program and its children, a test runner and its
 * tests) add their results to the same run: each update holds a POSIX record lock on the whole
 * file (per process, so a forked child that shares our open file is excluded too), reads where the
 * trailer is, and writes there. A file that does not end with the trailer is not ours (or was cut by
 * a process killed in the middle of a write): it is left alone, said once, and `threadwatch report
 * --format sarif` rebuilds the document from the JSON Lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/msg.h"
#include "base/options.h"
#include "base/real.h"
#include "report/format.h"
#include "report/symbolize.h"
#include "report/view.h"
#include "report/writer.h"
#include "runtime/calls.h"
#include "runtime/stackdepot.h"

#ifndef TW_VERSION
#define TW_VERSION "0.0.0"
#endif

/* How long an update waits for another process's update to finish before it gives up. */
#define LOCK_WAIT_MS 2000

static const char trailer[] = TW_SARIF_TRAILER;
#define TRAILER_LEN (sizeof(trailer) - 1)

/* Said once per process: the file is not a document we can add to. */
static long complained_pid;

static void complain(const char *why) {
  long pid = (long)getpid();
  if (complained_pid == pid) return;
  complained_pid = pid;
  char quoted[160];
  tw_msg_quote(quoted, sizeof(quoted), tw__opt.sarif);
  tw_msg(
      "threadwatch: THREADWATCH_SARIF: %s %s; no more SARIF results from this process (`threadwatch "
      "report --format sarif` rebuilds the document from the JSON Lines)",
      quoted, why);
}

static int file_lock(int fd, short type) {
  struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  for (int waited = 0;; waited++) {
    if (TW_REAL_FN(fcntl)(fd, F_SETLK, &fl) == 0) return 0;
    if (errno != EACCES && errno != EAGAIN && errno != EINTR) return -errno;
    if (type == F_UNLCK || waited >= LOCK_WAIT_MS) return -ETIMEDOUT;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

/* Under the lock: the offset where the next result goes (the trailer's), with *empty set when the
 * run has no result yet; a new file gets its header and trailer first. -1 when the file is not a
 * document we can add to (said). */
static off_t trailer_at(struct tw_out *o, bool *empty) {
  int fd = o->fd;
  struct stat st;
  if (fstat(fd, &st) != 0) return complain(strerror(errno)), -1;
  /* Positioned writes from here on: O_APPEND would send them to the end. */
  int fl = TW_REAL_FN(fcntl)(fd, F_GETFL);
  if (fl >= 0 && (fl & O_APPEND)) TW_REAL_FN(fcntl)(fd, F_SETFL, fl & ~O_APPEND);
  if (st.st_size == 0) {
    if (lseek(fd, 0, SEEK_SET) != 0) return complain(strerror(errno)), -1;
    tw_sarif_begin(o, TW_VERSION, tw__opt.source_root);
    tw_out_write(o, trailer, TRAILER_LEN);
    if (tw_out_flush(o) != 0) return complain(strerror(-o->error)), -1;
    if (fstat(fd, &st) != 0) return complain(strerror(errno)), -1;
  }
  /* The report file is open for writing only: read its end through a second, read-only open of
   * the same file (never of the path: it may name another file by now). */
  char tail[TRAILER_LEN + 1], self[64];
  snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
  int rfd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (rfd < 0) return complain("cannot be read back through /proc/self/fd"), -1;
  ssize_t got = st.st_size < (off_t)sizeof(tail)
                    ? -1
                    : pread(rfd, tail, sizeof(tail), st.st_size - (off_t)sizeof(tail));
  TW_REAL_FN(close)(rfd);
  if (got != (ssize_t)sizeof(tail) || memcmp(tail + 1, trailer, TRAILER_LEN) != 0)
    return complain("does not end as a SARIF document written by threadwatch"), -1;
  *empty = tail[0] == '[';
  return st.st_size - (off_t)TRAILER_LEN;
}

void tw_report_sarif_begin(struct tw_out *o, long pid) {
  (void)pid;
  if (complained_pid == (long)getpid()) return;
  int rc = file_lock(o->fd, F_WRLCK);
  if (rc != 0) {
    complain(rc == -ETIMEDOUT ? "stayed locked by another process" : strerror(-rc));
    return;
  }
  bool empty;
  trailer_at(o, &empty);
  file_lock(o->fd, F_UNLCK);
}

/* At exit: a run with no report leaves an empty document too (code scanning then closes the alerts
 * of bugs that are gone); begin made it. Nothing else is due: the document is complete after every
 * report. */
void tw_report_sarif_end(struct tw_out *o, long pid) { (void)o, (void)pid; }

/* --- the view of a report ----------------------------------------------------------------- */

static struct tw_view view; /* analysis lock held */
static struct tw_view_frame frames[TW_VIEW_MAX_FRAMES];
static uint32_t nframes;

/* Adds a stack to the view (nothing for stack id 0 or when the view is full). */
static void add_stack(uint32_t stack, int flow, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_stack(uint32_t stack, int flow, const char *fmt, ...) {
  const uintptr_t *pcs;
  int n = tw_depot_get(stack, &pcs);
  if (n == 0 || view.nstacks >= TW_VIEW_MAX_STACKS) return;
  struct tw_view_stack *s = &view.stacks[view.nstacks++];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->message, sizeof(s->message), fmt, ap);
  va_end(ap);
  s->flow = flow;
  s->frames = &frames[nframes];
  s->nframes = 0;
  for (int i = 0; i < n && s->nframes < TW_VIEW_STACK_FRAMES; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(pcs[i], f, TW_MAX_INLINE);
    for (int j = 0; j < nf && s->nframes < TW_VIEW_STACK_FRAMES && nframes < TW_VIEW_MAX_FRAMES; j++) {
      frames[nframes++] = (struct tw_view_frame){f[j].function, f[j].file, f[j].line, f[j].module};
      s->nframes++;
    }
  }
}

static int add_flow(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int add_flow(const char *fmt, ...) {
  if (view.nflows >= TW_VIEW_MAX_FLOWS) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(view.flow_message[view.nflows], TW_VIEW_MSG, fmt, ap);
  va_end(ap);
  return (int)view.nflows++;
}

/* "T2 blocked in read() on pipe fd 3" and the like. */
static void thread_line(char *buf, size_t n, const struct tw_report_thread *t) {
  if (t->access)
    snprintf(buf, n, "T%llu %s access", (unsigned long long)t->id, t->access);
  else if (t->state == TW_TS_BLOCKED)
    snprintf(buf, n, "T%llu blocked in %s() on %s", (unsigned long long)t->id, tw_call_name(t->wait.call),
             t->object);
  else
    snprintf(buf, n, "T%llu %s", (unsigned long long)t->id, tw_state_name(t->state));
}

static void fill_view(const struct tw_report *r) {
  memset(&view, 0, sizeof(view));
  nframes = 0;
  view.kind = r->kind;
  view.what = r->what;
  view.severity = r->severity;
  view.message = r->message;
  view.fingerprint = r->fingerprint;
  view.count = r->count;
  for (uint32_t i = 0; i < r->nedges; i++) {
    const struct tw_report_edge *e = &r->edges[i];
    int fl = add_flow("M%u => M%u: T%llu took M%u while holding M%u", e->from + 1, e->to + 1,
                      (unsigned long long)e->thread, e->to + 1, e->from + 1);
    add_stack(e->stack_from, fl, "T%llu took M%u", (unsigned long long)e->thread, e->from + 1);
    add_stack(e->stack_to, fl, "T%llu took M%u while holding M%u", (unsigned long long)e->thread, e->to + 1,
              e->from + 1);
  }
  bool flows = !r->nedges && (!strcmp(r->kind, "deadlock") || !strcmp(r->kind, "race-suspect"));
  for (uint32_t i = 0; i < r->nthreads; i++) {
    const struct tw_report_thread *t = &r->threads[i];
    char line[TW_VIEW_MSG];
    thread_line(line, sizeof(line), t);
    int fl = flows && i < r->nthreads - r->ncontext ? add_flow("%s", line) : -1;
    if (!r->nedges) add_stack(t->stack, fl, "%s", line);
    add_stack(t->created_at, -1, "T%llu created by T%llu", (unsigned long long)t->id,
              (unsigned long long)t->parent);
  }
  for (uint32_t i = 0; i < r->ngroups; i++)
    add_stack(r->groups[i].created_at, -1, "%u threads created here", r->groups[i].count);
  if (r->locked_at) add_stack(r->locked_at, -1, "where the lock was first taken");
  if (r->signalled_at)
    add_stack(r->signalled_at, -1, "T%llu signalled here while no thread waited",
              (unsigned long long)r->signalled_by);
  if (r->previous_at)
    add_stack(r->previous_at, -1, "%s by T%llu", r->previous_what ? r->previous_what : "earlier",
              (unsigned long long)r->previous_by);
}

void tw_report_sarif(struct tw_out *o, const struct tw_report *r, long pid) {
  (void)pid;
  if (complained_pid == (long)getpid()) return;
  int rc = file_lock(o->fd, F_WRLCK);
  if (rc != 0) {
    complain(rc == -ETIMEDOUT ? "stayed locked by another process" : strerror(-rc));
    return;
  }
  bool empty = true;
  off_t at = trailer_at(o, &empty);
  if (at >= 0 && lseek(o->fd, at, SEEK_SET) == at) {
    fill_view(r);
    if (!empty) tw_out_str(o, ",");
    tw_sarif_result(o, &view, tw__opt.source_root);
    tw_out_write(o, trailer, TRAILER_LEN);
    tw_out_flush(o); /* emit.c says so if it failed */
  }
  file_lock(o->fd, F_UNLCK);
}
