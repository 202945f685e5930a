/* bar_bad 1: a barrier initialised with a count of 0 (glibc: EINVAL, POSIX: invalid). */
#include <pthread.h>

#include "tw_test.h"

static TW_NOINLINE int make_barrier(pthread_barrier_t *b) { return pthread_barrier_init(b, NULL, 0); }

int main(void) {
  pthread_barrier_t *b = malloc(sizeof(*b));
  TW_CHECK(b != NULL);
  TW_CHECK(make_barrier(b) == EINVAL);
  free(b);
  return 0;
}
