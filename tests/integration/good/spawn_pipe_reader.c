/*
 * A single-threaded parent reads a pipe whose write end it gave to a program started with
 * posix_spawn (a shell that sleeps 500 ms, then writes), and then one read through popen. The
 * writers are other processes: the parent is not "all asleep".
 */
#include <spawn.h>
#include <sys/wait.h>

#include "tw_test.h"

extern char **environ;

TW_NOINLINE void read_from_spawned(void) {
  int fds[2];
  char buf[8];
  pid_t child;
  posix_spawn_file_actions_t fa;
  char *argv[] = {"sh", "-c", "sleep 0.5; echo spawned", NULL};
  TW_CHECK(pipe(fds) == 0);
  TW_OK(posix_spawn_file_actions_init(&fa));
  TW_OK(posix_spawn_file_actions_adddup2(&fa, fds[1], 1));
  TW_OK(posix_spawn_file_actions_addclose(&fa, fds[0]));
  TW_OK(posix_spawn(&child, "/bin/sh", &fa, NULL, argv, environ));
  TW_OK(posix_spawn_file_actions_destroy(&fa));
  close(fds[1]);
  TW_CHECK(read(fds[0], buf, sizeof buf) > 0); /* blocks about 500 ms */
  close(fds[0]);
  int status;
  TW_CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
}

TW_NOINLINE void read_from_popen(void) {
  char buf[16];
  FILE *f = popen("sleep 0.5; echo popen", "r");
  TW_CHECK(f != NULL);
  TW_CHECK(fgets(buf, sizeof buf, f) != NULL); /* blocks about 500 ms */
  TW_CHECK(pclose(f) == 0);
}

int main(void) {
  read_from_spawned();
  read_from_popen();
  return 0;
}
