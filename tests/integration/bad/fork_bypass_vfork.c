/*
 * Issue 11 item 3: a vfork() child runs in its parent's memory, and vfork does not pass through
 * threadwatch's fork hook. The classic child (dup2 a pipe end onto stdout, close both ends, exec
 * or _exit) calls hooked dup2/close: they must change nothing the parent's threadwatch relies on.
 * Here the parent's pipe is still open in the parent after the child closed its copies, and a
 * thread of the parent then blocks reading it: that is a pipe stall the parent must report
 * (baseline: the child's close() untracked the parent's fds, so the read is not watched at all).
 */
#include <pthread.h>
#include <sys/wait.h>

#include "tw_test.h"

static int fds[2];

TW_NOINLINE static void *wait_for_request(void *arg) {
  char c;
  (void)arg;
  TW_CHECK(read(fds[0], &c, 1) == 1); /* blocks forever: nobody writes */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  pid_t pid = vfork();
  if (pid == 0) {
    if (dup2(fds[1], 1) != 1) _exit(98);
    close(fds[0]);
    close(fds[1]);
    _exit(0);
  }
  TW_CHECK(pid > 0);
  int status;
  TW_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  TW_OK(pthread_create(&t, NULL, wait_for_request, NULL));
  tw_test_idle_forever();
}
