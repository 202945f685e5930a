/*
 * A worker waiting on an eventfd that nothing signals, while main stays in pause(): a stall of
 * class eventfd.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>

#include "tw_test.h"

static int efd;

static void *wait_for_event(void *arg) {
  uint64_t v;
  (void)arg;
  TW_CHECK(read(efd, &v, sizeof v) == sizeof v); /* blocks forever */
  return NULL;
}

int main(void) {
  pthread_t t;
  efd = eventfd(0, EFD_CLOEXEC);
  TW_CHECK(efd >= 0);
  TW_OK(pthread_create(&t, NULL, wait_for_event, NULL));
  tw_test_idle_forever();
}
