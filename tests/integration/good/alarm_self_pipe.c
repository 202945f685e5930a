/*
 * A single thread blocked reading a self-pipe that a SIGALRM handler writes (setitimer, 300 ms):
 * the only thread is blocked in read() on a pipe only it has access to, yet the wait ends, so it
 * is not "all asleep". Three rounds; the read restarts after the handler (SA_RESTART) or, in the
 * round installed without it, returns EINTR and is retried.
 */
#include <signal.h>
#include <sys/time.h>

#include "tw_test.h"

static int self_pipe[2];

static void on_alarm(int sig) {
  int saved = errno;
  char c = (char)sig;
  (void)!write(self_pipe[1], &c, 1);
  errno = saved;
}

TW_NOINLINE void wait_for_alarm(int restart) {
  struct sigaction sa;
  struct itimerval it = {{0, 0}, {0, 300 * 1000}};
  char c;
  ssize_t n;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigemptyset(&sa.sa_mask);
  TW_CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
  TW_CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
  do n = read(self_pipe[0], &c, 1);
  while (n < 0 && errno == EINTR);
  TW_CHECK(n == 1 && c == SIGALRM);
}

int main(void) {
  TW_CHECK(pipe(self_pipe) == 0);
  wait_for_alarm(1);
  wait_for_alarm(0);
  wait_for_alarm(1);
  return 0;
}
