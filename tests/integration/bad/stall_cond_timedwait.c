/*
 * A long timed wait: the only thread waits on a condvar nobody signals with a 60 s deadline. It is
 * no deadlock (the wait ends by itself), but it stalls past THREADWATCH_STALL.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

TW_NOINLINE void wait_a_minute(void) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 60;
  TW_OK(pthread_mutex_lock(&mu));
  while (pthread_cond_timedwait(&cv, &mu, &deadline) == 0) continue;
  TW_OK(pthread_mutex_unlock(&mu));
}

int main(void) {
  wait_a_minute();
  return 0;
}
