/*
 * Issue 11 item 3: daemon() forks inside glibc (it does not pass through threadwatch's fork hook).
 * The daemon child must still be sound: it must exit at once (no tool lock inherited from another
 * thread of its parent blocks its exit) and report nothing of its own (the parent's live threads
 * are not its leaks).
 *
 *   daemon_bypass blocked   one round: the parent's reporter is blocked writing a report to a full
 *                           stderr pipe, holding its analysis lock, when daemon() forks
 *                           (deterministic); a thread of the parent stays alive, blocked in read.
 *   daemon_bypass busy N    N rounds: two threads of the parent create and join threads, and
 *                           ping-pong bytes over a pipe, while daemon() forks (what `threadwatch run`
 *                           of a real daemon sees; each round hangs with some probability).
 *
 * Each round: main (a child subreaper) forks a middle process (through the hook: it starts clean),
 * which sets up the situation and calls daemon(1, 0); the daemon writes its pid on a pipe and calls
 * exit(0); main waits for the middle process and then for the daemon (reparented to main), each
 * for at most 10 s (a hang detector: a hung one is killed), and prints how each ended.
 */
#include <poll.h>
#include <sys/prctl.h>

#include "tw_test.h"
#include "fork_bypass.h"

static int ping[2], pong[2];
static pthread_barrier_t busy_started;

static void *noop(void *arg) { return arg; }

static void *churn(void *arg) {
  (void)arg;
  pthread_barrier_wait(&busy_started);
  for (;;) {
    pthread_t t;
    if (pthread_create(&t, NULL, noop, NULL) == 0) pthread_join(t, NULL);
  }
  return NULL;
}

static void *ping_pong(void *arg) {
  int side = (int)(long)arg;
  char c = 'x';
  pthread_barrier_wait(&busy_started);
  for (;;) {
    if (side == 0) {
      if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) break;
    } else {
      if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1) break;
    }
  }
  return NULL;
}

/* The middle process: sets up the situation, then daemon(). Never returns. */
static void middle(int busy, int pid_w) {
  pthread_t t;
  if (busy) {
    TW_CHECK(pipe(ping) == 0 && pipe(pong) == 0);
    TW_OK(pthread_barrier_init(&busy_started, NULL, 4));
    TW_OK(pthread_create(&t, NULL, churn, NULL));
    TW_OK(pthread_create(&t, NULL, ping_pong, (void *)0L));
    TW_OK(pthread_create(&t, NULL, ping_pong, (void *)1L));
    pthread_barrier_wait(&busy_started);
  } else {
    static int never[2];
    TW_CHECK(pipe(never) == 0);
    TW_OK(pthread_create(&t, NULL, fb_blocked_reader, &never[0]));
    if (fb_block_reporter_in_report() < 0) _exit(90); /* stderr is the full pipe from here on */
  }
  if (daemon(1, 0) != 0) _exit(91); /* the middle process _exits(0) inside daemon() */
  pid_t me = getpid();
  if (write(pid_w, &me, sizeof me) != (ssize_t)sizeof me) _exit(92);
  exit(0);
}

/* One round; returns 0 when both processes ended as they should. */
static int round_trip(int busy, int round) {
  int pp[2];
  char a[64], b[64];
  TW_CHECK(pipe(pp) == 0);
  fflush(stdout);
  pid_t mid = fork();
  TW_CHECK(mid >= 0);
  if (mid == 0) {
    close(pp[0]);
    middle(busy, pp[1]);
  }
  close(pp[1]);
  int mst = fb_wait_bounded(mid, 10);
  pid_t d = 0;
  struct pollfd pfd = {.fd = pp[0], .events = POLLIN};
  int dst = -3;
  if (poll(&pfd, 1, 10000) == 1 && read(pp[0], &d, sizeof d) == (ssize_t)sizeof d && d > 0)
    dst = fb_wait_bounded(d, 10);
  close(pp[0]);
  int ok = mst >= 0 && WIFEXITED(mst) && WEXITSTATUS(mst) == 0 && dst >= 0 && WIFEXITED(dst) &&
           WEXITSTATUS(dst) == 0;
  if (!ok)
    printf("round %d: middle process %s, daemon %s\n", round, fb_describe(mst, a, sizeof a),
           dst == -3 ? "never said its pid" : fb_describe(dst, b, sizeof b));
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  int busy = argc > 1 && strcmp(argv[1], "busy") == 0;
  int rounds = busy && argc > 2 ? atoi(argv[2]) : 1;
  TW_CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  int failed = 0;
  for (int i = 0; i < rounds; i++) failed += round_trip(busy, i);
  printf("daemon rounds: %d of %d clean\n", rounds - failed, rounds);
  return failed ? 1 : 0;
}
