/* Helpers for the issue-11 tests of fork paths that bypass threadwatch's fork hook (daemon, _Fork,
 * clone, vfork). Static, included by one program each (after tw_test.h). */
#ifndef TW_FORK_BYPASS_H
#define TW_FORK_BYPASS_H

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>

/* The kernel id of threadwatch's reporter thread (named "threadwatch"), waiting until it exists;
 * 0 when there is none after 3 s. */
static inline pid_t fb_reporter_tid(void) {
  struct timespec ts = {0, 1000 * 1000};
  for (int tries = 0; tries < 3000; tries++) {
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) return 0;
    struct dirent *e;
    pid_t found = 0;
    while ((e = readdir(d)) != NULL) {
      char path[300], comm[64] = "";
      if (e->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
      FILE *f = fopen(path, "r");
      if (f == NULL) continue;
      if (fgets(comm, sizeof comm, f) == NULL) comm[0] = '\0';
      fclose(f);
      if (strcmp(comm, "threadwatch\n") == 0) found = (pid_t)atoi(e->d_name);
    }
    closedir(d);
    if (found) return found;
    nanosleep(&ts, NULL);
  }
  return 0;
}

/*
 * Makes the baseline's reporter thread hold its analysis lock for good, deterministically: fd 2
 * becomes a pipe that is full and never read, then a one-thread lock-order inversion (A then B,
 * B then A) makes a report, whose text the reporter writes to fd 2 while it holds the lock. Returns
 * 1 once a thread named "threadwatch" is seen blocked in that write (in /proc), 0 when none is
 * within a few seconds (an implementation that never blocks on report output: the test then goes
 * on and checks the child all the same), -1 when the set-up itself failed. From now on nothing
 * may be written to stderr (it would block): the program reports on stdout.
 */
static inline int fb_block_reporter_in_report(void) {
  static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
  int p[2];
  if (pipe(p) != 0 || dup2(p[1], 2) != 2) return -1; /* p[0] stays open and unread */
  int fl = fcntl(2, F_GETFL);
  if (fcntl(2, F_SETFL, fl | O_NONBLOCK) != 0) return -1;
  static char junk[4096];
  memset(junk, 'j', sizeof junk);
  while (write(2, junk, sizeof junk) > 0) continue;
  while (write(2, junk, 1) > 0) continue;
  if (errno != EAGAIN || fcntl(2, F_SETFL, fl) != 0) return -1;
  pthread_mutex_lock(&a);
  pthread_mutex_lock(&b);
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
  pthread_mutex_lock(&b);
  pthread_mutex_lock(&a); /* closes the cycle: the reporter writes a lock-order-cycle report */
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&b);
  pid_t rep = fb_reporter_tid();
  if (rep == 0) return 0;
  struct timespec ts = {0, 1000 * 1000};
  for (int tries = 0; tries < 3000; tries++) {
    if (tw_test_syscall_of(rep) == SYS_write) return 1;
    nanosleep(&ts, NULL);
  }
  return 0;
}

/* Waits for child `pid` (which must be a child or, with PR_SET_CHILD_SUBREAPER, an orphaned
 * descendant) for at most `secs` seconds: a hang detector, not an ordering. Returns its wait
 * status, or -1 after killing it with SIGKILL when it did not end in time. */
static inline int fb_wait_bounded(pid_t pid, int secs) {
  struct timespec ts = {0, 1000 * 1000}, start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -2;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= secs) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    nanosleep(&ts, NULL);
  }
}

/* "exit N", "signal N", "hung (killed after S s)" for a status of fb_wait_bounded. */
static inline const char *fb_describe(int status, char *buf, size_t n) {
  if (status == -1) snprintf(buf, n, "hung (killed)");
  else if (status < 0) snprintf(buf, n, "lost (waitpid failed)");
  else if (WIFEXITED(status)) snprintf(buf, n, "exit %d", WEXITSTATUS(status));
  else snprintf(buf, n, "signal %d", WTERMSIG(status));
  return buf;
}

/* A thread that stays alive, blocked in read() on a pipe nobody writes: a live thread of the
 * parent that a child made by a fork path that bypasses the hook must not take for its own. */
static inline void *fb_blocked_reader(void *arg) {
  int fd = *(int *)arg;
  char c;
  ssize_t r = read(fd, &c, 1);
  return (void *)r;
}

#endif /* TW_FORK_BYPASS_H */
