/* issue 12 item 3, the twin of good/robust_owner_dies: a worker ends holding a plain (not robust)
 * mutex, which nobody can ever take again: exit-holding-locks stays reported for it. The main
 * thread then uses a timed lock to show the mutex is lost (ETIMEDOUT), and exits. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "tw_test.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static TW_NOINLINE void *owner_dies(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&m));
  return NULL; /* ends holding m: nobody can unlock it now */
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, owner_dies, NULL));
  TW_OK(pthread_join(t, NULL));
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int r = pthread_mutex_timedlock(&m, &ts); /* already expired: fails at once */
  TW_CHECK(r == ETIMEDOUT);
  printf("lost for good\n");
  return 0;
}
