/*
 * A fork does not make every later pipe "maybe written by another process": the program forks a
 * child that exits at once and reaps it, and only then creates a pipe and reads it, alone. No
 * other process ever held that pipe: all asleep.
 */
#include <sys/wait.h>

#include "tw_test.h"

TW_NOINLINE int read_pipe_made_after_fork(void) {
  int fds[2];
  char c;
  TW_CHECK(pipe(fds) == 0);
  return (int)read(fds[0], &c, 1); /* blocks forever */
}

int main(void) {
  int status;
  pid_t child = fork();
  TW_CHECK(child >= 0);
  if (child == 0) _exit(0);
  TW_CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
  return read_pipe_made_after_fork() == 1 ? 0 : 1;
}
