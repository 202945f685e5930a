/* Process-level entry points: the constructor and destructor, exit and main's return, fork and the
 * calls that start other processes (hazards 7, 13). The lifecycle work itself is control/init.c. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/options.h"
#include "control/init.h"
#include "control/reporter.h"
#include "hooks/hooks.h"
#include "runtime/fdtrack.h"

__attribute__((constructor)) static void tw_constructor(void) {
  tw__ensure_init();
  tw_self(tw_tls()); /* the initial thread is T1 */
  if (tw__opt.interval_ns) tw_reporter_ensure_started();
}

/* Runs after the application's atexit handlers and static destructors. */
__attribute__((destructor)) static void tw_destructor(void) {
  int status = tw__finish();
  if (status >= 0) {
    fflush(NULL); /* _exit skips stdio's flush; do it as exit() would have */
    _exit(status);
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
