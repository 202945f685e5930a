/* bar_bad 2: a barrier initialised twice, without a destroy in between. */
#include <pthread.h>

#include "tw_test.h"

static TW_NOINLINE void setup(pthread_barrier_t *b) { TW_OK(pthread_barrier_init(b, NULL, 1)); }
static TW_NOINLINE void setup_again(pthread_barrier_t *b) { TW_OK(pthread_barrier_init(b, NULL, 1)); }

int main(void) {
  pthread_barrier_t *b = malloc(sizeof(*b));
  TW_CHECK(b != NULL);
  setup(b);
  setup_again(b);
  TW_OK(pthread_barrier_destroy(b));
  free(b);
  return 0;
}
