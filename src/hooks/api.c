/* The public API of include/threadwatch.h, as implemented inside the preloaded library: the
 * function table `threadwatch__api` that the header's inline wrappers find with dlsym.
 *
 * Every entry point runs on an application thread: it saves errno, takes the re-entrancy guard
 * (the tool's own pthread and I/O calls pass straight through the hooks), makes sure the library is
 * initialised (a constructor of another library may call us before ours ran), and never holds a tool
 * lock when it returns or while it sleeps. */
#include "threadwatch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/out.h"
#include "base/real.h"
#include "base/tw.h"
#include "control/init.h"
#include "detect/leaks.h"
#include "detect/waits.h"
#include "hooks/hooks.h"
#include "race/race.h"
#include "report/dump.h"
#include "report/emit.h"
#include "runtime/engine.h"
#include "runtime/names.h"
#include "runtime/registry.h"

/* A mark is the pid in the high bits and the largest thread id then in the low ones: a mark taken
 * before a fork() is recognised in the child (whose thread ids start again at 2). pid_max is at
 * most 2^22, so 22 bits for the pid and 40 for the id (a trillion threads) fit. */
#define MARK_ID_BITS 40
#define MARK_ID_MASK ((1ull << MARK_ID_BITS) - 1)

/* Polling of threadwatch_check_leaks: the first look again after 1 ms, then less often, at most
 * every 10 ms (a thread that ends is seen within 10 ms; a long timeout costs ~100 looks a second). */
#define CHECK_FIRST_PAUSE_NS 1000000ull
#define CHECK_MAX_PAUSE_NS 10000000ull

struct api_call {
  struct tw_tls *t;
  int saved_errno;
};

static struct api_call api_enter(void) {
  struct api_call c = {tw_tls(), errno};
  tw_guard_enter(c.t);
  tw__ensure_init();
  return c;
}

static void api_leave(struct api_call *c) {
  tw_guard_leave(c->t);
  errno = c->saved_errno;
}

static const char *api_version(void) { return TW_VERSION; }

static unsigned long api_thread_count(void) {
  struct api_call c = api_enter();
  struct tw_registry_counts n;
  tw_registry_counts(&n);
  api_leave(&c);
  return (unsigned long)n.live;
}

static int api_watch(const void *ptr, size_t len, const char *label) {
  struct api_call c = api_enter();
  int rc = tw_race_watch((uintptr_t)ptr, len, label);
  api_leave(&c);
  return rc;
}

static int api_unwatch(const void *ptr) {
  struct api_call c = api_enter();
  int rc = tw_race_unwatch((uintptr_t)ptr);
  api_leave(&c);
  return rc;
}

static threadwatch_mark_t api_mark(void) {
  struct api_call c = api_enter();
  tw_self(c.t); /* the caller has an id (adopted if it was not created through pthread_create) */
  size_t n = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&n);
  /* The largest id there is: every thread created from now on gets a larger one. Threads already
   * reaped may have had larger ids, but they never show up again. Out of memory: mark the start. */
  uint64_t last = snaps && n ? snaps[n - 1].id : 0; /* sorted by id */
  free(snaps);
  api_leave(&c);
  return last ? ((threadwatch_mark_t)getpid() << MARK_ID_BITS) | (last & MARK_ID_MASK) : 0;
}

/* The id after which threads are new, for a mark taken in this process or an ancestor. */
static uint64_t mark_after_id(threadwatch_mark_t mark) {
  uint64_t pid = mark >> MARK_ID_BITS;
  if (pid != 0 && pid != (uint64_t)getpid()) return 0; /* forked since: all threads are new */
  return mark & MARK_ID_MASK;
}

/* After the check: the end of the captured text says what was cut and what was not reported again. */
static void capture_done(char *buf, size_t len, long leaked) {
  bool cut = false;
  uint64_t shown = tw_report_capture_end(&cut);
  size_t used = strlen(buf);
  char more[160] = "";
  if (leaked > 0 && (uint64_t)leaked > shown) {
    uint64_t again = (uint64_t)leaked - shown;
    snprintf(more, sizeof(more), "threadwatch: %llu more leaked thread%s, reported by an earlier "
             "check\n", (unsigned long long)again, again == 1 ? "" : "s");
  }
  if (cut || used + strlen(more) + 1 > len) {
    /* "...\n" at the very end, the note before it when there is room. */
    size_t keep = len > 5 ? len - 5 : 0;
    if (strlen(more) + 5 < len && keep > strlen(more)) keep -= strlen(more);
    else more[0] = '\0';
    if (used > keep) used = keep;
    snprintf(buf + used, len - used, "%s...\n", more);
    return;
  }
  snprintf(buf + used, len - used, "%s", more);
}

static void pause_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
  }
}

/* The check of threadwatch_check_leaks(_text); buf/len: where the text of its reports goes (NULL, 0:
 * nowhere). */
static int check_leaks(threadwatch_mark_t mark, unsigned int timeout_ms, char *buf, size_t len) {
  struct api_call c = api_enter();
  int cancel;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel); /* not a cancellation point */
  struct tw_thread *self = tw_self(c.t);
  struct tw_leak_scope scope = {.after_id = mark_after_id(mark), .except_id = self ? self->id : 0};
  uint64_t start = tw__now_ns(), deadline = start + (uint64_t)timeout_ms * 1000000ull;
  uint64_t pause = CHECK_FIRST_PAUSE_NS;
  int rc = 0, err = 0;
  for (;;) {
    long n = tw_leaks_count(&scope);
    if (n <= 0) { /* none left (0), or no memory to look (-ENOMEM) */
      if (n < 0) rc = -1, err = (int)-n;
      goto out;
    }
    uint64_t now = tw__now_ns();
    if (now >= deadline) break;
    /* Not guarded while asleep: a signal handler that runs meanwhile is the program's code. */
    tw_guard_leave(c.t);
    pause_ns(deadline - now < pause ? deadline - now : pause);
    tw_guard_enter(c.t);
    if (pause < CHECK_MAX_PAUSE_NS) pause *= 2;
    if (pause > CHECK_MAX_PAUSE_NS) pause = CHECK_MAX_PAUSE_NS;
  }
  scope.waited_ms = (tw__now_ns() - start) / 1000000ull;
  tw_analysis_lock();
  if (buf) tw_report_capture(buf, len);
  long n = tw_leaks_check(&scope);
  if (buf) capture_done(buf, len, n);
  tw_analysis_unlock();
  if (n < 0) rc = -1, err = (int)-n;
  else rc = n > INT32_MAX ? INT32_MAX : (int)n;
out:
  pthread_setcancelstate(cancel, NULL);
  api_leave(&c);
  if (err) errno = err;
  return rc;
}

static int api_check_leaks(threadwatch_mark_t mark, unsigned int timeout_ms) {
  return check_leaks(mark, timeout_ms, NULL, 0);
}

static int api_check_leaks_text(threadwatch_mark_t mark, unsigned int timeout_ms, char *buf,
                                size_t len) {
  if (buf && len) buf[0] = '\0';
  return check_leaks(mark, timeout_ms, len ? buf : NULL, len);
}

/* The dump itself, on whichever thread runs it. Returns 0 or -errno. */
static int dump_to(int fd) {
  static struct tw_out out; /* 64 KiB: static, under the analysis lock */
  tw_analysis_lock();
  tw_out_init(&out, fd);
  static struct tw_dump_deadlocks deadlocks;
  tw_waits_find_deadlocks(&deadlocks, tw__now_ns());
  tw_dump_write(&out, false, false, &deadlocks);
  int rc = tw_out_flush(&out);
  tw_analysis_unlock();
  return rc;
}

struct dump_job {
  int fd;
  int rc;
};

/* A short-lived tool thread (invisible like the reporter: never registered, every call it makes
 * passes straight through) makes the dump, so that the caller is a thread like the others: stopped
 * in a system call (the join below), its stack read from outside and shown in the dump, as Go's
 * runtime.Stack(all) shows the caller. Made on the caller's own thread, the caller would describe
 * itself mid-read of its own /proc files. */
static void *dump_main(void *arg) {
  struct tw_tls *t = tw_tls();
  t->guard = 1;
  t->gone = true;
  struct dump_job *job = arg;
  job->rc = dump_to(job->fd);
  return NULL;
}

static int api_dump(int fd) {
  if (fd < 0) { /* struct tw_out would discard it all */
    errno = EBADF;
    return -1;
  }
  struct api_call c = api_enter();
  int cancel;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel); /* the job lives on this stack */
  struct dump_job job = {fd, 0};
  /* The helper never runs the program's signal handlers: it starts with every signal blocked. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t th;
  bool helper = TW_REAL_FN(pthread_create)(&th, NULL, dump_main, &job) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (helper) TW_REAL_FN(pthread_join)(th, NULL);
  else job.rc = dump_to(fd); /* no thread to be had: the caller shows as running, no stack */
  pthread_setcancelstate(cancel, NULL);
  api_leave(&c);
  if (job.rc == 0) return 0;
  errno = -job.rc;
  return -1;
}

static int api_name_lock(const void *lock, const char *name) {
  struct api_call c = api_enter();
  tw_analysis_lock(); /* serialises the writers of the name table (readers take no lock) */
  int rc = tw_names_set((uintptr_t)lock, name);
  tw_analysis_unlock();
  api_leave(&c);
  return rc;
}

/* Found by the header with dlsym(RTLD_DEFAULT, "threadwatch__api"); fields only ever added at the
 * end (the header checks `size`). */
TW_EXPORT const struct threadwatch__api threadwatch__api = {
    .size = sizeof(struct threadwatch__api),
    .version = api_version,
    .thread_count = api_thread_count,
    .watch = api_watch,
    .unwatch = api_unwatch,
    .mark = api_mark,
    .check_leaks = api_check_leaks,
    .dump = api_dump,
    .name_lock = api_name_lock,
    .check_leaks_text = api_check_leaks_text,
};
