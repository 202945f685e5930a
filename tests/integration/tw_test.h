/* Helpers for the integration test programs: order threads by observing them, never by sleeping. */
#ifndef TW_TEST_H
#define TW_TEST_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Keep a function as its own frame at -O1 so that reports can name it. */
#define TW_NOINLINE __attribute__((noinline))

/* Abort the test program with a message when a call that must succeed fails. */
#define TW_CHECK(expr)                                                                          \
  do {                                                                                          \
    if (!(expr)) {                                                                              \
      fprintf(stderr, "%s:%d: test program check failed: %s\n", __FILE__, __LINE__, #expr);    \
      exit(99);                                                                                 \
    }                                                                                           \
  } while (0)

/* Also calls that return an errno value (pthread_*). */
#define TW_OK(call)                                                                             \
  do {                                                                                          \
    int tw_rc_ = (call);                                                                        \
    if (tw_rc_ != 0) {                                                                          \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, strerror(tw_rc_));  \
      exit(99);                                                                                 \
    }                                                                                           \
  } while (0)

static inline pid_t tw_test_gettid(void) { return (pid_t)syscall(SYS_gettid); }

/* One polling step: 1 ms. Correctness never depends on it, only how quickly a change is seen. */
static inline void tw_test_pause(unsigned long *spins, const char *what, long a, long b) {
  struct timespec ts = {0, 1000 * 1000};
  nanosleep(&ts, NULL);
  if (++*spins == 5000) {
    fprintf(stderr, "tw_test: still waiting after 5s: %s (%ld, %ld)\n", what, a, b);
  }
}

/*
 * Read the first field of /proc/self/task/TID/syscall: the number of the system call the thread is
 * blocked in, -1 when it is running, -2 when the thread is gone, -3 when the file cannot be read.
 */
static inline long tw_test_syscall_of(pid_t tid) {
  char path[64], buf[128];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return errno == ENOENT ? -2 : -3;
  long nr = -1;
  if (fgets(buf, sizeof buf, f) != NULL && buf[0] >= '0' && buf[0] <= '9') {
    nr = strtol(buf, NULL, 10);
  }
  fclose(f);
  return nr;
}

/*
 * Wait until thread TID (of this process) is blocked inside system call NR (SYS_read, SYS_futex).
 * The caller first makes the thread announce that it is about to make the call, so the only
 * system call it can be in is the one that blocks.
 */
static inline void tw_test_wait_in_syscall(pid_t tid, long nr) {
  unsigned long spins = 0;
  for (;;) {
    long cur = tw_test_syscall_of(tid);
    if (cur == nr) return;
    if (cur == -2 || cur == -3) {
      fprintf(stderr, "tw_test: cannot observe thread %d (no /proc/self/task?)\n", (int)tid);
      exit(99);
    }
    tw_test_pause(&spins, "thread to block in syscall", tid, nr);
  }
}

/* Wait until thread TID has exited completely (its kernel task is gone). */
static inline void tw_test_wait_gone(pid_t tid) {
  unsigned long spins = 0;
  while (syscall(SYS_tgkill, getpid(), tid, 0) == 0 || errno != ESRCH) {
    tw_test_pause(&spins, "thread to exit", tid, 0);
  }
}

/* Wait until thread TID is a zombie (the main thread after pthread_exit while others run). */
static inline void tw_test_wait_zombie(pid_t tid) {
  char path[64], buf[512];
  unsigned long spins = 0;
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  for (;;) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return; /* gone altogether: even later than a zombie */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* the state follows "(comm) " */
    if (rp != NULL && (rp[2] == 'Z' || rp[2] == 'X')) return;
    tw_test_pause(&spins, "thread to become a zombie", tid, 0);
  }
}

/*
 * Keep the calling thread alive until the process is killed, in no call threadwatch watches: the
 * thread counts as running, so the rest of the process is not "all asleep" and a hang test sees
 * only the reports about the other threads.
 */
static inline void tw_test_idle_forever(void) {
  for (;;) pause();
}

/* The state letter of process PID in /proc/PID/stat ('S' sleeping, 'R' running, ...); 0 when it
 * cannot be read. */
static inline char tw_test_proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *rp = strrchr(buf, ')'); /* the state follows "(comm) " */
  return rp != NULL && rp[1] == ' ' ? rp[2] : 0;
}

/* Initialises m as a PTHREAD_MUTEX_ERRORCHECK mutex (the misuse tests run each check on both the
 * default and the error-checking type). */
static inline void tw_test_errorcheck_init(pthread_mutex_t *m) {
  pthread_mutexattr_t attr;
  TW_OK(pthread_mutexattr_init(&attr));
  TW_OK(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK));
  TW_OK(pthread_mutex_init(m, &attr));
  TW_OK(pthread_mutexattr_destroy(&attr));
}

/* Sleep MS milliseconds: a duration the test is about, never a way to order threads. */
static inline void tw_test_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) continue;
}

/* Lines in the file THREADWATCH_JSON names (without %p): the reports made so far; 0 when it does
 * not exist yet. */
static inline long tw_test_json_lines(void) {
  const char *path = getenv("THREADWATCH_JSON");
  if (path == NULL) return 0;
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  long lines = 0;
  int c;
  while ((c = getc(f)) != EOF) lines += c == '\n';
  fclose(f);
  return lines;
}

/* Wait until threadwatch has written at least N reports to THREADWATCH_JSON: a program that must
 * be seen by a live report before it goes on watches for the report itself. */
static inline void tw_test_wait_json_lines(long n) {
  unsigned long spins = 0;
  while (tw_test_json_lines() < n) tw_test_pause(&spins, "reports in THREADWATCH_JSON", n, 0);
}

#endif /* TW_TEST_H */
