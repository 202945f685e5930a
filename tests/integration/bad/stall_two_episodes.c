/*
 * Two wait episodes, two stalls: read_twice blocks in read() on a pipe; once the first stall
 * report is in the JSON file main writes one byte, read_twice reads it and blocks again; after
 * the second stall report main writes again and joins. Each episode is reported once.
 */
#include <pthread.h>

#include "tw_test.h"

static int fds[2];

static void *read_twice(void *arg) {
  char c;
  (void)arg;
  TW_CHECK(read(fds[0], &c, 1) == 1);
  TW_CHECK(read(fds[0], &c, 1) == 1);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_create(&t, NULL, read_twice, NULL));
  tw_test_wait_json_lines(1); /* the first episode's stall */
  TW_CHECK(write(fds[1], "1", 1) == 1);
  tw_test_wait_json_lines(2); /* the second episode's stall */
  TW_CHECK(write(fds[1], "2", 1) == 1);
  TW_OK(pthread_join(t, NULL));
  return 0;
}
