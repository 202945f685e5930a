/*
 * A cycle through a pipe and a mutex: feed_then_lock writes one message to a pipe, then waits
 * for M; read_holding_m reads that message, takes M, and reads the pipe again, holding M. Only
 * feed_then_lock has ever written the pipe, and it waits for M. main stays in pause().
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int fds[2];
static pthread_barrier_t m_held;

static void *feed_then_lock(void *arg) {
  (void)arg;
  TW_CHECK(write(fds[1], "x", 1) == 1);
  pthread_barrier_wait(&m_held);
  TW_OK(pthread_mutex_lock(&m)); /* held by read_holding_m, which waits for this thread */
  return NULL;
}

static void *read_holding_m(void *arg) {
  char c;
  (void)arg;
  TW_CHECK(read(fds[0], &c, 1) == 1);
  TW_OK(pthread_mutex_lock(&m));
  pthread_barrier_wait(&m_held);
  TW_CHECK(read(fds[0], &c, 1) == 1); /* only feed_then_lock writes: blocks forever */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_barrier_init(&m_held, NULL, 2));
  TW_OK(pthread_create(&t, NULL, feed_then_lock, NULL));
  TW_OK(pthread_create(&t, NULL, read_holding_m, NULL));
  tw_test_idle_forever();
}
