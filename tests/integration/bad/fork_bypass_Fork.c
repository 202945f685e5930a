/*
 * Issue 11 item 3: _Fork() does not pass through threadwatch's fork hook (nor run atfork
 * handlers). The child must still be sound: at its exit it must neither block on a tool lock that
 * another thread of the parent held at the fork (here, deterministically, the reporter's analysis
 * lock: the reporter is blocked writing a report to a full stderr pipe), nor take the parent's
 * live threads for its own leaks. The child redirects its stderr to /dev/null and calls exit(0).
 * Main reports on stdout (its stderr is the full pipe) and ends with _exit (its own exit path would
 * wait for the blocked reporter; that is not what this test is about).
 */
#include <sys/prctl.h>

#include "tw_test.h"
#include "fork_bypass.h"

int main(void) {
  int never[2];
  pthread_t t;
  pid_t parent = getpid();
  TW_CHECK(pipe(never) == 0);
  TW_OK(pthread_create(&t, NULL, fb_blocked_reader, &never[0])); /* alive across the fork */
  int blocked = fb_block_reporter_in_report();
  if (blocked < 0) {
    printf("set-up failed\n");
    fflush(stdout);
    _exit(1);
  }
  printf("reporter blocked in a report: %s\n", blocked ? "yes" : "no");
  fflush(stdout);
  pid_t pid = _Fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(97);
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 2) != 2) _exit(98);
    exit(0);
  }
  if (pid < 0) {
    printf("_Fork failed\n");
    fflush(stdout);
    _exit(1);
  }
  char what[64];
  int status = fb_wait_bounded(pid, 10);
  printf("_Fork child: %s\n", fb_describe(status, what, sizeof what));
  fflush(stdout);
  _exit(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1);
}
