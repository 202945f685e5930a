/* Process-level entry points: the constructor, and the calls that start other processes. fork and
 * exit need no hook: control/init.c registers atfork and exit handlers with glibc, which also run
 * for daemon() and for every way a process ends through exit (hazards 7, 13). */
#include <spawn.h>

#include "base/options.h"
#include "control/init.h"
#include "control/reporter.h"
#include "hooks/hooks.h"
#include "runtime/fdtrack.h"

__attribute__((constructor)) static void tw_constructor(void) {
  tw__ensure_init();
  tw_self(tw_tls()); /* the initial thread is T1 */
  tw_tls_note_stack(tw_tls());
  if (tw__opt.interval_ns) tw_reporter_ensure_started();
}

/* Spawned processes inherit the pipes that are not close-on-exec: from now on a blocked reader of
 * one of them may be fed from outside the process. Cost: one store. */
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
