/*
 * Issue 11 item 1: a pthread_atfork child handler that writes to a pipe (libuv, node, cmake and
 * ctest do this) must not hang the child. The pipe is tracked (made by pipe()), so the write goes
 * through the write hook's slow path while glibc runs the handlers inside the real fork.
 * The parent handler writes to the same pipe too (it runs inside fork in the parent).
 * The child sets PR_SET_PDEATHSIG in an earlier child handler: if it hangs, it dies with the parent
 * when the test's timeout kills the parent (no stray process is left behind).
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "tw_test.h"

static int fds[2];
static pid_t parent_pid;

static void child_guard(void) { /* registered first: child handlers run in registration order */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent_pid) _exit(97);
}

static void parent_writes(void) {
  if (write(fds[1], "p", 1) != 1) _exit(98);
}

static void child_writes(void) {
  if (write(fds[1], "c", 1) != 1) _exit(98);
}

int main(void) {
  parent_pid = getpid();
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_atfork(NULL, NULL, child_guard));
  TW_OK(pthread_atfork(NULL, parent_writes, child_writes));
  pid_t pid = fork();
  TW_CHECK(pid >= 0);
  if (pid == 0) _exit(0);
  int status;
  TW_CHECK(waitpid(pid, &status, 0) == pid);
  char buf[2];
  TW_CHECK(read(fds[0], buf, 2) == 2); /* one byte from each handler, in either order */
  TW_CHECK((buf[0] == 'p' && buf[1] == 'c') || (buf[0] == 'c' && buf[1] == 'p'));
  printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
