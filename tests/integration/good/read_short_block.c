/*
 * A thread blocked in read() for less than THREADWATCH_STALL (read_short_block.env sets 1s): main
 * waits until the reader is blocked, lets it wait 300 ms, then writes and joins. No stall.
 */
#include <pthread.h>

#include "tw_test.h"

static int fds[2];
static pid_t reader_tid;
static pthread_barrier_t started;

static void *read_one(void *arg) {
  char c;
  (void)arg;
  reader_tid = tw_test_gettid();
  pthread_barrier_wait(&started);
  TW_CHECK(read(fds[0], &c, 1) == 1);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_barrier_init(&started, NULL, 2));
  TW_OK(pthread_create(&t, NULL, read_one, NULL));
  pthread_barrier_wait(&started);
  tw_test_wait_in_syscall(reader_tid, SYS_read);
  tw_test_sleep_ms(300); /* the reader waits 300 ms, under the 1 s threshold */
  TW_CHECK(write(fds[1], "x", 1) == 1);
  TW_OK(pthread_join(t, NULL));
  return 0;
}
