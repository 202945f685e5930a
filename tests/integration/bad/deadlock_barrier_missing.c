/*
 * A barrier that waits for one thread too many: it is initialised for 3 (the workers and main),
 * but main joins the workers instead of arriving. The two workers wait for an arrival that can
 * never come: every thread is asleep.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_barrier_t phase;

static TW_NOINLINE void *worker(void *arg) {
  (void)arg;
  pthread_barrier_wait(&phase); /* the third arrival never comes */
  return NULL;
}

int main(void) {
  pthread_t t[2];
  TW_OK(pthread_barrier_init(&phase, NULL, 3));
  for (int i = 0; i < 2; i++) TW_OK(pthread_create(&t[i], NULL, worker, NULL));
  for (int i = 0; i < 2; i++) TW_OK(pthread_join(t[i], NULL));
  return 0;
}
