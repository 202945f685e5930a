/* The few helpers every module shares: the monotonic clock and the check-failure path. */
#include "base/tw.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

uint64_t tw__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void tw__check_fail(const char *file, int line, const char *expr) {
  char buf[512];
  int n = snprintf(buf, sizeof(buf), "threadwatch: internal check failed at %s:%d: %s\n", file,
                   line, expr);
  ssize_t TW_UNUSED w = write(2, buf, n > 0 ? (size_t)n : 0);
  abort();
}
