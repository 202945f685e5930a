/*
 * main joins a reader blocked on a pipe that only a detached thread writes, 300 ms later (it
 * sleeps in an unwatched call meanwhile): a running detached thread can still end the wait, so
 * main and the reader are not all asleep.
 */
#include <pthread.h>

#include "tw_test.h"

static int fds[2];

static void *read_one(void *arg) {
  char c;
  (void)arg;
  TW_CHECK(read(fds[0], &c, 1) == 1);
  return NULL;
}

static void *write_later(void *arg) {
  (void)arg;
  tw_test_sleep_ms(300);
  TW_CHECK(write(fds[1], "x", 1) == 1);
  return NULL;
}

int main(void) {
  pthread_t r, w;
  pthread_attr_t attr;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_create(&r, NULL, read_one, NULL));
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  TW_OK(pthread_create(&w, &attr, write_later, NULL));
  TW_OK(pthread_join(r, NULL));
  return 0;
}
