/*
 * A pipe cycle, the pthread form of two goroutines each waiting to receive from the other:
 * pipe_a reads p1 and writes p2, pipe_b reads p2 and writes p1. They exchange one message (so each
 * has written the pipe the other reads), then both read again and nobody writes any more.
 * main stays in pause() (a call threadwatch does not watch), so only the cycle is blocked.
 */
#include <pthread.h>

#include "tw_test.h"

static int p1[2], p2[2]; /* p1: to pipe_a, p2: to pipe_b */

static void exchange(int in, int out, char mine) {
  char c;
  TW_CHECK(write(out, &mine, 1) == 1);
  TW_CHECK(read(in, &c, 1) == 1); /* the other one's message */
  ssize_t n = read(in, &c, 1);    /* the other one is reading too: blocks forever */
  TW_CHECK(n == 1);
}

static void *pipe_a(void *arg) {
  (void)arg;
  exchange(p1[0], p2[1], 'a');
  return NULL;
}

static void *pipe_b(void *arg) {
  (void)arg;
  exchange(p2[0], p1[1], 'b');
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(p1) == 0 && pipe(p2) == 0);
  TW_OK(pthread_create(&t, NULL, pipe_a, NULL));
  TW_OK(pthread_create(&t, NULL, pipe_b, NULL));
  tw_test_idle_forever();
}
