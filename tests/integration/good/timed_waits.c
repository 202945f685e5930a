/*
 * Timed waits that time out, then the program goes on and exits 0. Each would look like a hang if
 * the timeout were ignored:
 *   1. the only thread waits on a condvar nobody signals, with pthread_cond_timedwait (not
 *      all-asleep: the wait ends by itself);
 *   2. main holds M and waits for T2 with pthread_timedjoin_np while T2 tries M with
 *      pthread_mutex_timedlock (not a wait cycle: T2 gives up, then the join succeeds);
 *   3. main's pthread_timedjoin_np on a thread blocked in read() times out, then main writes the
 *      pipe and joins.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int fds[2];

static struct timespec in_ms(long ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

TW_NOINLINE void lonely_timedwait(void) {
  struct timespec deadline = in_ms(300);
  TW_OK(pthread_mutex_lock(&cv_mu));
  int rc;
  do rc = pthread_cond_timedwait(&cv, &cv_mu, &deadline);
  while (rc == 0); /* a spurious wakeup: wait on until the deadline */
  TW_CHECK(rc == ETIMEDOUT);
  TW_OK(pthread_mutex_unlock(&cv_mu));
}

static void *try_m_for_a_while(void *arg) {
  (void)arg;
  struct timespec deadline = in_ms(300);
  TW_CHECK(pthread_mutex_timedlock(&m, &deadline) == ETIMEDOUT); /* main holds m */
  return NULL;
}

static void *read_one(void *arg) {
  char c;
  (void)arg;
  TW_CHECK(read(fds[0], &c, 1) == 1);
  return NULL;
}

int main(void) {
  pthread_t t;
  struct timespec deadline;
  int rc;

  lonely_timedwait();

  TW_OK(pthread_mutex_lock(&m));
  TW_OK(pthread_create(&t, NULL, try_m_for_a_while, NULL));
  deadline = in_ms(10000);
  TW_OK(pthread_timedjoin_np(t, NULL, &deadline)); /* T2 gives up after 300 ms */
  TW_OK(pthread_mutex_unlock(&m));

  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_create(&t, NULL, read_one, NULL));
  deadline = in_ms(300);
  while ((rc = pthread_timedjoin_np(t, NULL, &deadline)) == EINTR) continue;
  TW_CHECK(rc == ETIMEDOUT);
  TW_CHECK(write(fds[1], "x", 1) == 1);
  TW_OK(pthread_join(t, NULL));
  return 0;
}
