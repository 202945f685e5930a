/*
 * Two threads bounce a token over two pipes many times while main joins them: at any moment each
 * thread may be blocked reading the pipe the other writes (the shape of a pipe wait cycle), but
 * the token is always in flight, so nothing is stuck: no deadlock, no report.
 */
#include <pthread.h>

#include "tw_test.h"

#define ROUNDS 30000

static int ping[2], pong[2];

static void *pinger(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    char c = (char)i, r;
    TW_CHECK(write(ping[1], &c, 1) == 1);
    TW_CHECK(read(pong[0], &r, 1) == 1 && r == c);
  }
  return NULL;
}

static void *ponger(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    char c;
    TW_CHECK(read(ping[0], &c, 1) == 1);
    TW_CHECK(write(pong[1], &c, 1) == 1);
  }
  return NULL;
}

int main(void) {
  pthread_t a, b;
  TW_CHECK(pipe(ping) == 0 && pipe(pong) == 0);
  TW_OK(pthread_create(&b, NULL, ponger, NULL));
  TW_OK(pthread_create(&a, NULL, pinger, NULL));
  TW_OK(pthread_join(a, NULL));
  TW_OK(pthread_join(b, NULL));
  return 0;
}
