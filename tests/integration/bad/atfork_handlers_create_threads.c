/*
 * Issue 11 items 1-2 (audit): atfork parent and child handlers that start a thread (libraries
 * restart their worker threads after a fork, in the parent and in the child). pthread_create's
 * hook captures a stack and takes the registry lock, both of which the fork hook keeps closed
 * until the real fork returns. Both processes must go on at once; the threads are joined.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "tw_test.h"

static pid_t parent_pid;
static pthread_t restarted;
static int restarted_ok;

static void *worker(void *arg) { return arg; }

static void restart_worker(void) { restarted_ok = pthread_create(&restarted, NULL, worker, NULL) == 0; }

static void child_guard(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent_pid) _exit(97);
}

int main(void) {
  parent_pid = getpid();
  TW_OK(pthread_atfork(NULL, NULL, child_guard));
  TW_OK(pthread_atfork(NULL, restart_worker, restart_worker));
  pid_t pid = fork();
  TW_CHECK(pid >= 0);
  if (pid == 0) {
    if (!restarted_ok || pthread_join(restarted, NULL) != 0) _exit(1);
    _exit(0);
  }
  TW_CHECK(restarted_ok);
  TW_OK(pthread_join(restarted, NULL));
  int status;
  TW_CHECK(waitpid(pid, &status, 0) == pid);
  printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
