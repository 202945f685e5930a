/* Issue 11 ("found along the way"): a thread that alternates write and read on one pipe (any
 * request/response loop) sent one fd-fact event per call, because only the last (fd, direction)
 * was remembered: 2.8 million dropped events in 10 s, and every report said "this report may be
 * incomplete". Facts are now sent once per fd and direction. Here a helper thread and main take
 * turns through two pipes 100,000 times each way (main alternates writes to one pipe and reads
 * from the other, the helper the reverse), then main reads a pipe nobody writes and the helper
 * waits to be joined: a deadlock report, which must not mention dropped events. */
#include "tw_test.h"

static int to_helper[2], to_main[2];

static void *helper(void *arg) {
  char c;
  for (int i = 0; i < 100000; i++) {
    TW_CHECK(read(to_helper[0], &c, 1) == 1);
    TW_CHECK(write(to_main[1], &c, 1) == 1);
  }
  return arg;
}

TW_NOINLINE static int read_forever(void) {
  int fds[2];
  char c;
  TW_CHECK(pipe(fds) == 0);
  return (int)read(fds[0], &c, 1);
}

int main(void) {
  TW_CHECK(pipe(to_helper) == 0 && pipe(to_main) == 0);
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, helper, NULL));
  char c = 'x';
  for (int i = 0; i < 100000; i++) {
    TW_CHECK(write(to_helper[1], &c, 1) == 1);
    TW_CHECK(read(to_main[0], &c, 1) == 1);
  }
  TW_OK(pthread_join(t, NULL));
  return read_forever() == 1 ? 0 : 1;
}
