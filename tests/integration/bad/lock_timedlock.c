/* Inversion through pthread_mutex_timedlock with a far deadline (an hour away): it can block just
 * like pthread_mutex_lock, so timed_ab (A then B) and timed_ba (B then A, run later) form a cycle. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void timed_lock(pthread_mutex_t *m) {
  struct timespec deadline;
  TW_CHECK(clock_gettime(CLOCK_REALTIME, &deadline) == 0);
  deadline.tv_sec += 3600;
  TW_OK(pthread_mutex_timedlock(m, &deadline));
}

static void *timed_ab(void *arg) {
  (void)arg;
  timed_lock(&lock_a);
  timed_lock(&lock_b);
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_a));
  return NULL;
}

static void *timed_ba(void *arg) {
  (void)arg;
  timed_lock(&lock_b);
  timed_lock(&lock_a);
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&lock_b));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, timed_ab, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, timed_ba, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
