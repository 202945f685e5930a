/* Building reports: describing threads, their waits and the application's place in a stack. */
#include "report/build.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/tw.h"
#include "report/format.h"
#include "report/symbolize.h"
#include "report/format.h"
#include "runtime/fdtrack.h"
#include "runtime/feeders.h"
#include "runtime/names.h"
#include "runtime/stackdepot.h"
#include "runtime/unwind_other.h"

static_assert(sizeof(((struct tw_report_lock *)0)->name) == TW_NAME_BYTES,
              "report.h keeps names of TW_NAME_BYTES");
static_assert(sizeof(((struct tw_report_held *)0)->name) == TW_NAME_BYTES,
              "report.h keeps names of TW_NAME_BYTES");

static const char *base(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path;
}

/* A frame in a system library (libc, libstdc++, ...): the headline names the application's code
 * that called into it instead (std::thread's constructor calls pthread_create, not the user). */
static bool system_frame(const struct tw_frame *f) {
  /* A frame of code from a system header (inlined, or a template instance) is the library's; the
   * function it was inlined into has its own frame with its own file, judged on its own
   * (tw_symbolize walks the whole chain, so that frame is always there). */
  if (tw_symbolize_system_file(f->file)) return true;
  /* A sanitizer runtime linked into the program (clang's static ASan): its interceptors are in the
   * executable, but they are not the program's code. */
  if (f->function && (strncmp(f->function, "__interceptor_", 14) == 0 ||
                      strncmp(f->function, "___interceptor_", 15) == 0 ||
                      strncmp(f->function, "__asan_", 7) == 0 ||
                      strncmp(f->function, "__sanitizer", 11) == 0))
    return true;
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
  else if (strcmp(f.function, "??") == 0 && strcmp(f.module, "??") != 0)
    snprintf(buf, n, "?? (%s+0x%lx)", base(f.module), (unsigned long)f.module_offset);
  else snprintf(buf, n, "%s (%s)", f.function, base(f.module));
}

void tw_report_thread_label(uint64_t id, char *buf, size_t n) {
  struct tw_thread_snap s;
  tw_format_label(buf, n, id, tw_registry_snap_by_id(id, &s) ? s.name : "");
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
    case TW_WC_SEM: {
      tw_names_describe(rt->object, sizeof(rt->object), "semaphore", w->obj);
      uint64_t ids[TW_FD_FACT_THREADS], last = 0;
      unsigned n = tw_feeders_threads(w->obj, ids, TW_FD_FACT_THREADS, &last);
      if (n == 0) snprintf(rt->note, sizeof(rt->note), "no thread has posted it");
      else snprintf(rt->note, sizeof(rt->note), "last posted by T%llu", (unsigned long long)last);
      break;
    }
    case TW_WC_BARRIER: {
      char b[sizeof(rt->object)];
      tw_names_describe(b, sizeof(b), "barrier", w->obj);
      unsigned v[3]; /* glibc's in, current_round, count (struct pthread_barrier) */
      if (tw_peek((const void *)w->obj, v, sizeof(v)) == 0 && v[2] && v[0] >= v[1])
        snprintf(rt->object, sizeof(rt->object), "%s (%u of %u arrived)", b, v[0] - v[1], v[2]);
      else snprintf(rt->object, sizeof(rt->object), "%s", b);
      break;
    }
    case TW_WC_SPIN: tw_names_describe(rt->object, sizeof(rt->object), "spinlock", w->obj); break;
    case TW_WC_FUTEX: tw_names_describe(rt->object, sizeof(rt->object), "futex", w->obj); break;
    case TW_WC_SLEEP: {
      char d[32];
      tw_format_duration(d, sizeof(d), w->obj);
      if (w->obj) snprintf(rt->object, sizeof(rt->object), "a sleep of %s", d);
      else snprintf(rt->object, sizeof(rt->object), "a sleep until a set time");
      break;
    }
    case TW_WC_SOCK:
    case TW_WC_POLL: tw_describe_fd_wait(rt->object, sizeof(rt->object), rt->note,
                                         sizeof(rt->note), w); break;
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
    rt->state = tw_call_sleeps(s->wait.call) ? TW_TS_SLEEPING : TW_TS_BLOCKED;
    rt->wait = s->wait;
    rt->wait_ns = now_ns > s->wait.since_ns ? now_ns - s->wait.since_ns : 0;
    rt->stack = s->wait.stack;
    /* Unwound now, from the call site the wait recorded (no stack was taken when it began). */
    if (!rt->stack && s->wait.site_pc)
      rt->stack = tw_unwind_site(s->wait.site_pc, s->wait.site_sp, s->wait.site_bp);
    describe_wait(rt);
  } else {
    rt->state = TW_TS_RUNNING;
  }
}

void tw_report_thread_locate(struct tw_report_thread *rt) {
  if (rt->state != TW_TS_RUNNING) return;
  if (rt->tid > 0 && rt->tid == gettid()) {
    /* The thread making this report (a worker that called exit() while main joined it). Read
     * "remotely", its own /proc syscall file says "read" and its live stack changes under the
     * unwinder: garbage frames (issue 11 item 5). Its own stack is captured here instead. */
    rt->stack = tw_stack_capture();
    char where[100] = "";
    if (rt->stack) tw_report_where(rt->stack, where, sizeof(where));
    snprintf(rt->note, sizeof(rt->note), "the thread making this report%s%s",
             where[0] ? ", at " : "", where);
    return;
  }
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

void tw_report_fill_names(struct tw_report *r) {
  if (tw_likely(!tw_names_any())) return; /* nothing was ever named */
  for (uint32_t i = 0; i < r->nlocks && i < TW_ARRAY_LEN(r->locks); i++)
    if (!r->locks[i].name[0]) tw_names_get(r->locks[i].addr, r->locks[i].name, TW_NAME_BYTES);
  for (uint32_t i = 0; i < r->nthreads && i < TW_ARRAY_LEN(r->threads); i++) {
    struct tw_report_thread *t = &r->threads[i];
    for (uint32_t k = 0; k < t->nlocks_held && k < TW_ARRAY_LEN(t->locks_held); k++)
      if (!t->locks_held[k].name[0])
        tw_names_get(t->locks_held[k].addr, t->locks_held[k].name, TW_NAME_BYTES);
  }
}
