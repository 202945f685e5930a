/*
 * POSIX timers with SIGEV_THREAD: glibc runs the callback on threads of its own (not made through
 * pthread_create). main first reads a pipe that a timer callback writes 300 ms later, then waits
 * (with a predicate) on a condvar that another callback signals: the only application thread is
 * blocked each time, but a thread of the process that threadwatch did not see created ends the
 * wait, so it is not "all asleep".
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "tw_test.h"

static int fds[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool fired;

static void write_pipe(union sigval v) {
  (void)v;
  TW_CHECK(write(fds[1], "t", 1) == 1);
}

static void signal_cv(union sigval v) {
  (void)v;
  TW_OK(pthread_mutex_lock(&mu));
  fired = true;
  TW_OK(pthread_cond_signal(&cv));
  TW_OK(pthread_mutex_unlock(&mu));
}

static timer_t arm(void (*fn)(union sigval)) {
  struct sigevent sev;
  struct itimerspec its = {{0, 0}, {0, 300 * 1000 * 1000}};
  timer_t timer;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = fn;
  TW_CHECK(timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0);
  TW_CHECK(timer_settime(timer, 0, &its, NULL) == 0);
  return timer;
}

int main(void) {
  char c;
  TW_CHECK(pipe(fds) == 0);
  timer_t t1 = arm(write_pipe);
  TW_CHECK(read(fds[0], &c, 1) == 1 && c == 't');
  timer_t t2 = arm(signal_cv);
  TW_OK(pthread_mutex_lock(&mu));
  while (!fired) TW_OK(pthread_cond_wait(&cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  TW_CHECK(timer_delete(t1) == 0 && timer_delete(t2) == 0);
  return 0;
}
