/*
 * A barrier round that takes longer than THREADWATCH_STALL: the worker arrives and waits; main,
 * busy elsewhere (it reads the JSON report file), arrives only after the stall report.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_barrier_t phase;

static TW_NOINLINE void *worker(void *arg) {
  (void)arg;
  pthread_barrier_wait(&phase);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_barrier_init(&phase, NULL, 2));
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  tw_test_wait_json_lines(1);
  pthread_barrier_wait(&phase);
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_barrier_destroy(&phase));
  return 0;
}
