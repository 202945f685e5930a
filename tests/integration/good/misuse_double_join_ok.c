/*
 * The twin of bad/misuse_double_join: every thread joined exactly once. Eight workers are joined in
 * reverse order; then one pthread_t variable is reused for 50 create/join rounds (glibc hands out
 * the same cached descriptor, so the same pthread_t value comes back: a new thread each time, each
 * joined once); pthread_tryjoin_np on a finished thread counts as its join.
 */
#include <pthread.h>

#include "tw_test.h"

static void *worker(void *arg) { return arg; }

int main(void) {
  pthread_t ts[8], t;
  for (long i = 0; i < 8; i++) TW_OK(pthread_create(&ts[i], NULL, worker, (void *)i));
  for (long i = 7; i >= 0; i--) {
    void *ret;
    TW_OK(pthread_join(ts[i], &ret));
    TW_CHECK(ret == (void *)i);
  }
  for (int round = 0; round < 50; round++) {
    TW_OK(pthread_create(&t, NULL, worker, NULL));
    TW_OK(pthread_join(t, NULL));
  }
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  unsigned long spins = 0;
  int rc;
  while ((rc = pthread_tryjoin_np(t, NULL)) == EBUSY) tw_test_pause(&spins, "tryjoin", 0, 0);
  TW_OK(rc);
  return 0;
}
