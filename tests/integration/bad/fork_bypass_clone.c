/*
 * Issue 11 item 3: a raw clone() without CLONE_VM (a fork that runs a function on a new stack)
 * does not pass through threadwatch's fork hook. As in fork_bypass_Fork: the child must not block
 * at exit on a tool lock another thread held at the clone (deterministically: the reporter is
 * blocked writing a report to a full stderr pipe, holding its analysis lock), nor report the
 * parent's live threads as its own leaks.
 */
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "tw_test.h"
#include "fork_bypass.h"

static pid_t parent;

static int child_fn(void *arg) {
  (void)arg;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(97);
  int null = open("/dev/null", O_WRONLY);
  if (null < 0 || dup2(null, 2) != 2) _exit(98);
  exit(0);
}

int main(void) {
  int never[2];
  pthread_t t;
  parent = getpid();
  TW_CHECK(pipe(never) == 0);
  TW_OK(pthread_create(&t, NULL, fb_blocked_reader, &never[0]));
  size_t size = 1 << 20;
  char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  TW_CHECK(stack != MAP_FAILED);
  int blocked = fb_block_reporter_in_report();
  if (blocked < 0) {
    printf("set-up failed\n");
    fflush(stdout);
    _exit(1);
  }
  printf("reporter blocked in a report: %s\n", blocked ? "yes" : "no");
  fflush(stdout);
  pid_t pid = clone(child_fn, stack + size, SIGCHLD, NULL);
  if (pid < 0) {
    printf("clone failed\n");
    fflush(stdout);
    _exit(1);
  }
  char what[64];
  int status = fb_wait_bounded(pid, 10);
  printf("clone child: %s\n", fb_describe(status, what, sizeof what));
  fflush(stdout);
  _exit(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1);
}
