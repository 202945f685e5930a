/*
 * bar_bad 5: a barrier destroyed that was never initialised (filled with 1 bytes, as bar_bad does,
 * so that glibc's destroy does not divide by zero).
 */
#include <pthread.h>

#include "tw_test.h"

static TW_NOINLINE void teardown(pthread_barrier_t *b) { pthread_barrier_destroy(b); }

int main(void) {
  pthread_barrier_t *b = malloc(sizeof(*b));
  TW_CHECK(b != NULL);
  memset(b, 1, sizeof(*b));
  teardown(b);
  free(b);
  return 0;
}
