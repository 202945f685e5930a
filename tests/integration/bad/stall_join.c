/*
 * A join that never returns: join_worker joins a thread that runs forever (sleeping in a loop,
 * not in a watched call). main stays in pause().
 */
#include <pthread.h>

#include "tw_test.h"

static void *run_forever(void *arg) {
  (void)arg;
  for (;;) tw_test_sleep_ms(50);
  return NULL;
}

static void *join_worker(void *arg) {
  pthread_t worker;
  (void)arg;
  TW_OK(pthread_create(&worker, NULL, run_forever, NULL));
  TW_OK(pthread_join(worker, NULL)); /* the worker never ends */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, join_worker, NULL));
  tw_test_idle_forever();
}
