/*
 * A semaphore used after sem_destroy (POSIX: undefined; glibc still posts it). Reported before the
 * real call, with where it was destroyed.
 */
#include <semaphore.h>

#include "tw_test.h"

static sem_t ready;

static TW_NOINLINE void shutdown_queue(void) { TW_CHECK(sem_destroy(&ready) == 0); }
static TW_NOINLINE void notify(void) { TW_CHECK(sem_post(&ready) == 0); }

int main(void) {
  TW_CHECK(sem_init(&ready, 0, 0) == 0);
  shutdown_queue();
  notify();
  return 0;
}
