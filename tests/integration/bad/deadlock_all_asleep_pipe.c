/*
 * Go's "all goroutines are asleep": a single-threaded program reads a pipe it created itself.
 * Nobody else holds the write end (no other thread, no child process, no signal handler), so the
 * read can never return.
 */
#include "tw_test.h"

TW_NOINLINE int read_own_pipe(void) {
  int fds[2];
  char c;
  TW_CHECK(pipe(fds) == 0);
  return (int)read(fds[0], &c, 1); /* blocks forever */
}

int main(void) { return read_own_pipe() == 1 ? 0 : 1; }
