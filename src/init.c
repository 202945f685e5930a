/* Process lifecycle: constructor/destructor, thread exit, fork, and the exit status rule. */
#include "init.h"
#include "control.h"
#include "fdtrack.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "race.h"
#include "leaks.h"
#include "options.h"
#include "report.h"
#include "reporter.h"
#include "stackdepot.h"
#include "suppress.h"
#include "tls.h"

_Atomic int tw__init_done;
static _Atomic int init_busy;
static pthread_key_t exit_key;

/* How the process is leaving, for the exit status rule. */
static _Atomic int exit_status_known;
static _Atomic int exit_status;
static _Atomic int main_left; /* the initial thread called pthread_exit */
static _Atomic int finished;

/* Our TSD destructor: the thread is leaving, on any path (return, pthread_exit, cancellation). */
static void on_thread_exit(void *p) {
  struct tw_thread *self = p;
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw_race_thread_exiting(self);
  tw__join_abandoned(t);
  if (t->nheld) tw__misuse_exit_holding(t); /* before the record says it has exited */
  tw_registry_exited(self);
  if (t->held && t->held != t->inline_held) free(t->held);
  t->held = NULL;
  t->nheld = t->cap = 0;
  t->self = NULL;
  t->gone = true; /* later TSD destructors and libc's own exit work pass straight through */
  if (tw_load_relaxed(&main_left)) {
    struct tw_registry_counts c;
    tw_registry_counts(&c);
    if (c.live == 0) tw_reporter_wake_for_exit();
  }
  tw_guard_leave(t);
}

void tw__thread_attach(struct tw_thread *self) { pthread_setspecific(exit_key, self); }

void tw__init_slow(void) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&init_busy, &expected, 1)) {
    /* Another thread is initialising (only possible if a foreign thread races the first hook). */
    while (!tw_load_acquire(&tw__init_done)) sched_yield();
    return;
  }
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw__real_resolve();
  tw__options_load(); /* a bad value exits with status 2 here, before main */
  tw__suppress_load();
  tw__stack_init();
  tw_race_init(); /* THREADWATCH_WATCH: a bad item exits with status 2 here */
  pthread_key_create(&exit_key, on_thread_exit);
  tw_store_release(&tw__init_done, 1);
  tw_guard_leave(t);
}

__attribute__((constructor)) static void tw_constructor(void) {
  tw__ensure_init();
  tw_self(tw_tls()); /* the initial thread is T1 */
  if (tw__opt.interval_ns) tw_reporter_ensure_started();
}

void tw__note_pthread_exit(void) {
  if (gettid() != getpid()) return;
  /* When the last thread leaves after this, glibc ends the process with exit(0). */
  tw_store_relaxed(&main_left, 1);
  tw_reporter_ensure_started(); /* it ends the process's wait for our thread when the last one goes */
}

void tw__note_exit_status(int status) {
  tw_store_relaxed(&exit_status, status);
  tw_store_release(&exit_status_known, 1);
}

/* Writes the exit-time reports: the last drain, leaks. Runs once, on whichever thread ends the
 * process, after the application's atexit handlers and static destructors. */
static void finish(void) {
  if (atomic_exchange(&finished, 1)) return;
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw_analysis_lock();
  tw_reporter_tick(tw__now_ns(), true);
  tw_leaks_check_exit();
  tw_control_stop();
  tw_analysis_unlock();
  tw_guard_leave(t);
}

__attribute__((destructor)) static void tw_destructor(void) {
  if (!tw_load_acquire(&tw__init_done)) return;
  finish();
  /* The exit status rule: a process that made reports and would exit 0 exits THREADWATCH_EXITCODE.
   * The status is known when exit() came through our hook, main returned through our wrapper, or
   * the last thread left after main called pthread_exit (glibc then exits with 0). */
  int known = tw_load_acquire(&exit_status_known);
  int status = known ? tw_load_relaxed(&exit_status) : 0;
  if (!known && tw_load_relaxed(&main_left)) known = 1;
  if (known && status == 0 && tw__opt.exitcode != 0 && tw_report_count() > 0) {
    fflush(NULL); /* _exit skips stdio's flush; do it as exit() would have */
    _exit((int)tw__opt.exitcode);
  }
}

TW_HOOK void exit(int status) {
  tw__note_exit_status(status);
  TW_REAL_FN(exit)(status);
  __builtin_unreachable();
}

/* main() runs inside this wrapper so its return value is known: glibc calls exit() internally after
 * main returns, where our exit hook cannot see it. */
static int (*app_main)(int, char **, char **);
static int main_wrapper(int argc, char **argv, char **envp) {
  int rc = app_main(argc, argv, envp);
  tw__note_exit_status(rc);
  return rc;
}

TW_HOOK int __libc_start_main(int (*main_fn)(int, char **, char **), int argc, char **argv,
                              void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
                              void *stack_end) {
  app_main = main_fn;
  return TW_REAL_FN(__libc_start_main)(main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}

void tw__fork_prepare(void) {
  tw_unwind_fork_prepare(); /* first: a walk in flight takes none of the locks below */
  tw_fd_note_fork(); /* the child may keep pipe ends: their readers may be fed from outside */
  tw_reporter_fork_prepare(); /* takes the analysis lock: no report is half-written in the child */
  tw_registry_fork_prepare();
}

void tw__fork_parent(void) {
  tw_registry_fork_parent();
  tw_reporter_fork_parent();
  tw_unwind_fork_done(false);
}

void tw__fork_child(void) {
  struct tw_tls *t = tw_tls();
  tw_unwind_fork_done(true);
  tw_registry_after_fork_child(t->self);
  tw_race_fork_child();
  tw_reporter_after_fork_child();
  tw_report_after_fork_child();
  tw_store_relaxed(&exit_status_known, 0);
  tw_store_relaxed(&main_left, 0);
  tw_store_relaxed(&finished, 0);
}

/* Spawned processes inherit the pipes that are not close-on-exec: from now on a blocked reader of
 * one of them may be fed from outside the process. */
TW_HOOK int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  tw_fd_note_fork();
  return TW_REAL_FN(posix_spawn)(pid, path, fa, attr, argv, envp);
}

TW_HOOK int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                         const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  tw_fd_note_fork();
  return TW_REAL_FN(posix_spawnp)(pid, file, fa, attr, argv, envp);
}

TW_HOOK int system(const char *cmd) {
  tw_fd_note_fork();
  return TW_REAL_FN(system)(cmd);
}

TW_HOOK pid_t fork(void) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(fork)();
  TW_ERRNO_SAVE();
  tw_self(t);
  tw_guard_enter(t);
  tw__fork_prepare();
  tw_guard_leave(t);
  TW_ERRNO_RESTORE();
  /* The application's own atfork handlers run inside the real fork, unguarded, as they would. */
  pid_t pid = TW_REAL_FN(fork)();
  int saved = errno;
  tw_guard_enter(t);
  if (pid == 0) tw__fork_child();
  else tw__fork_parent();
  tw_guard_leave(t);
  errno = saved;
  return pid;
}
