/*
 * Issue 11 item 2 (single-thread form): an atfork prepare handler that takes two of the library's
 * locks nested (jemalloc and friends lock every arena in prepare). The nested lock is a new
 * lock-order edge, whose first sighting captures a stack inside fork. Must finish at once.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "tw_test.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pid_t parent_pid;

static void prepare(void) {
  pthread_mutex_lock(&a);
  pthread_mutex_lock(&b);
}
static void unlock_both(void) {
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
}
static void child_done(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent_pid) _exit(97);
  unlock_both();
}

int main(void) {
  parent_pid = getpid();
  TW_OK(pthread_atfork(prepare, unlock_both, child_done));
  pid_t pid = fork();
  TW_CHECK(pid >= 0);
  if (pid == 0) _exit(0);
  int status;
  TW_CHECK(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
