/* A barrier waited on after pthread_barrier_destroy (a count of 1: glibc lets it through). */
#include <pthread.h>

#include "tw_test.h"

static pthread_barrier_t b;

static TW_NOINLINE void teardown(void) { TW_OK(pthread_barrier_destroy(&b)); }
static TW_NOINLINE void late_wait(void) { pthread_barrier_wait(&b); }

int main(void) {
  TW_OK(pthread_barrier_init(&b, NULL, 1));
  teardown();
  late_wait();
  return 0;
}
