/*
 * An eventfd cycle: efd_a reads e1 and posts e2, efd_b reads e2 and posts e1. One exchange (so
 * each has written the eventfd the other reads), then both read again and nobody posts any more.
 * main stays in pause() (not a watched call).
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>

#include "tw_test.h"

static int e1, e2;

static void exchange(int in, int out) {
  uint64_t one = 1, v;
  TW_CHECK(write(out, &one, sizeof one) == sizeof one);
  TW_CHECK(read(in, &v, sizeof v) == sizeof v); /* the other one's post */
  TW_CHECK(read(in, &v, sizeof v) == sizeof v); /* the other one is reading too: forever */
}

static void *efd_a(void *arg) {
  (void)arg;
  exchange(e1, e2);
  return NULL;
}

static void *efd_b(void *arg) {
  (void)arg;
  exchange(e2, e1);
  return NULL;
}

int main(void) {
  pthread_t t;
  e1 = eventfd(0, EFD_CLOEXEC);
  e2 = eventfd(0, EFD_CLOEXEC);
  TW_CHECK(e1 >= 0 && e2 >= 0);
  TW_OK(pthread_create(&t, NULL, efd_a, NULL));
  TW_OK(pthread_create(&t, NULL, efd_b, NULL));
  tw_test_idle_forever();
}
