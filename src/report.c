/* Report emission: suppression check, the two writers, output files, exit-status bookkeeping. */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdtrack.h"
#include "names.h"
#include "options.h"
#include "out.h"
#include "stackdepot.h"
#include "stats.h"
#include "suppress.h"
#include "symbolize.h"
#include "unwind_other.h"

/* One output per destination, opened on the first report. Analysis lock held for all of this. */
struct sink {
  int fd;         /* -1 until opened */
  int failed;     /* opening failed: said once, then fall back to stderr (text) or nothing (JSON) */
  long pid;       /* the pid the file was opened for (a forked child with %p reopens) */
  struct tw_out out;
};
static struct sink text_sink = {.fd = -1}, json_sink = {.fd = -1};
static _Atomic uint64_t reports_written;

static void say(const char *msg) { tw__write_all(2, msg, strlen(msg)); }

static int sink_fd(struct sink *s, const char *path_opt, bool is_text) {
  long pid = (long)getpid();
  if (s->fd >= 0 && s->pid == pid) return s->fd;
  if (s->failed) return is_text ? 2 : -1;
  if (is_text && (path_opt[0] == '\0' || strcmp(path_opt, "stderr") == 0)) {
    s->fd = 2;
    s->pid = pid;
    return 2;
  }
  char path[TW_OPT_STR_MAX + 32];
  int rc = tw__expand_pid(path_opt, pid, path, sizeof(path));
  int fd = rc == 0 ? tw__open_report_file(path) : rc;
  if (fd < 0) {
    char msg[TW_OPT_STR_MAX + 160];
    snprintf(msg, sizeof(msg), "threadwatch: cannot open %s report file '%s': %s%s\n",
             is_text ? "THREADWATCH_LOG" : "THREADWATCH_JSON", path, strerror(-fd),
             is_text ? "; writing the report to stderr" : "; JSON reports are off");
    say(msg);
    s->failed = 1;
    return is_text ? 2 : -1;
  }
  s->fd = fd;
  s->pid = pid;
  return fd;
}

static void sink_finish(struct sink *s, const char *what) {
  if (tw_out_flush(&s->out) != 0 && !s->failed) {
    char msg[200];
    snprintf(msg, sizeof(msg), "threadwatch: writing the %s report failed: %s\n", what,
             strerror(-s->out.error));
    say(msg);
    s->failed = 1; /* said once; later reports do not repeat it */
    tw_stat_add(write_errors, 1);
  }
}

static bool frames_match(const struct tw_suppressions *sup, const char *kind, uint32_t stack) {
  const uintptr_t *pcs;
  int n = tw_depot_get(stack, &pcs);
  for (int i = 0; i < n; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(pcs[i], f, TW_MAX_INLINE);
    for (int j = 0; j < nf; j++)
      if (tw_suppress_match_frame(sup, kind, &f[j])) return true;
  }
  return false;
}

static bool suppressed(const struct tw_report *r) {
  const struct tw_suppressions *sup = tw__suppressions();
  if (!sup) return false;
  for (uint32_t i = 0; i < r->nthreads; i++) {
    if (frames_match(sup, r->kind, r->threads[i].stack)) return true;
    if (frames_match(sup, r->kind, r->threads[i].created_at)) return true;
  }
  for (uint32_t i = 0; i < r->ngroups; i++)
    if (frames_match(sup, r->kind, r->groups[i].created_at)) return true;
  return false;
}

bool tw_report_emit(struct tw_report *r) {
  if (suppressed(r)) {
    tw_stat_add(suppressed, 1);
    return false;
  }
  tw_names_fill_report(r); /* threadwatch_name_lock() names of the locks it lists */
  long pid = (long)getpid();
  int tfd = sink_fd(&text_sink, tw__opt.log, true);
  tw_out_init(&text_sink.out, tfd);
  tw_report_text(&text_sink.out, r, pid);
  sink_finish(&text_sink, "text");
  if (tw__opt.json[0]) {
    int jfd = sink_fd(&json_sink, tw__opt.json, false);
    if (jfd >= 0) {
      tw_out_init(&json_sink.out, jfd);
      tw_report_json(&json_sink.out, r, pid);
      sink_finish(&json_sink, "JSON");
    }
  }
  tw_add_relaxed(&reports_written, 1);
  tw_stat_add(reports, 1);
  return true;
}

uint64_t tw_report_count(void) { return tw_load_relaxed(&reports_written); }

void tw_report_log_line(const char *line) {
  int fd = sink_fd(&text_sink, tw__opt.log, true);
  tw_out_init(&text_sink.out, fd);
  tw_out_str(&text_sink.out, line);
  sink_finish(&text_sink, "text");
}

void tw_report_after_fork_child(void) {
  tw_store_relaxed(&reports_written, 0);
  /* Files opened for the parent's pid are reopened under the child's pid on the next report when
   * the path has %p; without %p the child keeps appending to the same file. */
  if (strstr(tw__opt.log, "%p") && text_sink.fd > 2) {
    close(text_sink.fd);
    text_sink.fd = -1;
  }
  if (strstr(tw__opt.json, "%p") && json_sink.fd >= 0) {
    close(json_sink.fd);
    json_sink.fd = -1;
  }
  if (text_sink.fd >= 0) text_sink.pid = (long)getpid();
  if (json_sink.fd >= 0) json_sink.pid = (long)getpid();
  text_sink.failed = json_sink.failed = 0;
}

static const char *base(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path;
}

/* A frame in a system library (libc, libstdc++, ...): the headline names the application's code
 * that called into it instead (std::thread's constructor calls pthread_create, not the user). */
static bool system_frame(const struct tw_frame *f) {
  if (f->file && strncmp(f->file, "/usr/include/", 13) == 0) return true; /* inlined from headers */
  return f->module && (strncmp(f->module, "/lib", 4) == 0 || strncmp(f->module, "/usr/lib", 8) == 0);
}

void tw_report_where(uint32_t stack, char *buf, size_t n) {
  const uintptr_t *pcs;
  int nf = tw_depot_get(stack, &pcs);
  if (nf == 0) {
    snprintf(buf, n, "an unknown place");
    return;
  }
  /* The innermost frame (inline chains included) that is the application's own code. */
  struct tw_frame f, chain[TW_MAX_INLINE];
  tw_symbolize(pcs[0], &f, 1);
  bool found = !system_frame(&f);
  for (int i = 0; i < nf && !found; i++) {
    int nc = tw_symbolize(pcs[i], chain, TW_MAX_INLINE);
    for (int j = 0; j < nc && !found; j++)
      if (!system_frame(&chain[j])) {
        f = chain[j];
        found = true;
      }
  }
  if (f.file) snprintf(buf, n, "%s (%s:%d)", f.function, base(f.file), f.line);
  else snprintf(buf, n, "%s (%s)", f.function, base(f.module));
}

static void describe_wait(struct tw_report_thread *rt) {
  const struct tw_wait_snap *w = &rt->wait;
  switch (tw_call_class(w->call)) {
    case TW_WC_MUTEX: tw_names_describe(rt->object, sizeof(rt->object), "mutex", w->obj); break;
    case TW_WC_RWLOCK: tw_names_describe(rt->object, sizeof(rt->object), "rwlock", w->obj); break;
    case TW_WC_COND: {
      char cv[sizeof(rt->object)], mx[sizeof(rt->object)];
      tw_names_describe(cv, sizeof(cv), "condvar", w->obj);
      tw_names_describe(mx, sizeof(mx), "mutex", w->obj2);
      snprintf(rt->object, sizeof(rt->object), "%s (%s)", cv, mx);
      break;
    }
    case TW_WC_JOIN: {
      uint64_t id = tw_registry_id_of_handle((pthread_t)w->obj);
      if (id) snprintf(rt->object, sizeof(rt->object), "thread T%llu", (unsigned long long)id);
      else snprintf(rt->object, sizeof(rt->object), "thread %#lx", (unsigned long)w->obj);
      break;
    }
    case TW_WC_FD: {
      uint8_t kind = tw_fd_get(w->fd);
      uint64_t last = 0;
      bool reading = w->call == TW_CALL_READ || w->call == TW_CALL_EVENTFD_READ;
      unsigned feeders = tw_fdfacts_count(w->fd, reading ? TW_EV_IO_WRITE : TW_EV_IO_READ, &last);
      const char *k = kind ? tw_fd_kind_name(kind) : "fd";
      snprintf(rt->object, sizeof(rt->object), "%s fd %d", k, w->fd);
      if (kind && reading && feeders == 0)
        snprintf(rt->note, sizeof(rt->note), "no thread has written to it");
      else if (kind && reading)
        snprintf(rt->note, sizeof(rt->note), "last written by T%llu", (unsigned long long)last);
      break;
    }
    default: rt->object[0] = '\0';
  }
}

void tw_report_thread_from_snap(struct tw_report_thread *rt, const struct tw_thread_snap *s,
                                uint64_t now_ns) {
  memset(rt, 0, sizeof(*rt));
  rt->id = s->id;
  rt->parent = s->parent;
  rt->tid = s->tid;
  memcpy(rt->name, s->name, sizeof(rt->name));
  rt->created_at = s->created_at;
  if (s->life == TW_LIFE_EXITED) {
    rt->state = TW_TS_EXITED;
  } else if (s->wait.call != TW_CALL_NONE) {
    rt->state = TW_TS_BLOCKED;
    rt->wait = s->wait;
    rt->wait_ns = now_ns > s->wait.since_ns ? now_ns - s->wait.since_ns : 0;
    rt->stack = s->wait.stack;
    describe_wait(rt);
  } else {
    rt->state = TW_TS_RUNNING;
  }
}

void tw_report_thread_locate(struct tw_report_thread *rt) {
  if (rt->state != TW_TS_RUNNING) return;
  long nr = -1;
  rt->stack = rt->tid > 0 ? tw_unwind_other(rt->tid, &nr) : 0;
  static const struct { long nr; const char *name; } names[] = {
      {0, "read"}, {1, "write"}, {7, "poll"}, {23, "select"}, {34, "pause"}, {35, "nanosleep"},
      {43, "accept"}, {45, "recvfrom"}, {47, "recvmsg"}, {61, "wait4"}, {202, "futex"},
      {230, "clock_nanosleep"}, {232, "epoll_wait"}, {270, "pselect6"}, {271, "ppoll"},
      {281, "epoll_pwait"}, {288, "accept4"}};
  if (nr < 0) {
    snprintf(rt->note, sizeof(rt->note), "running (not in a system call)");
    return;
  }
  const char *name = NULL;
  for (size_t i = 0; i < TW_ARRAY_LEN(names); i++)
    if (names[i].nr == nr) name = names[i].name;
  char where[120] = "";
  if (rt->stack) {
    char w[100];
    tw_report_where(rt->stack, w, sizeof(w));
    snprintf(where, sizeof(where), " at %s", w);
  }
  if (name) snprintf(rt->note, sizeof(rt->note), "in system call %s%s", name, where);
  else snprintf(rt->note, sizeof(rt->note), "in system call %ld%s", nr, where);
}
