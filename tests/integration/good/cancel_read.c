/* A thread cancelled while blocked in read() on a pipe, then joined: nothing to report. */
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static int never_written[2];
static _Atomic pid_t reader_tid;

static void *reader(void *arg) {
  (void)arg;
  char c;
  atomic_store(&reader_tid, tw_test_gettid());
  ssize_t n = read(never_written[0], &c, 1); /* a cancellation point */
  return (void *)n;
}

int main(void) {
  pthread_t t;
  pid_t tid;
  void *ret;
  unsigned long spins = 0;
  TW_CHECK(pipe(never_written) == 0);
  TW_OK(pthread_create(&t, NULL, reader, NULL));
  while ((tid = atomic_load(&reader_tid)) == 0) tw_test_pause(&spins, "reader start", 0, 0);
  tw_test_wait_in_syscall(tid, SYS_read);
  TW_OK(pthread_cancel(t));
  TW_OK(pthread_join(t, &ret));
  TW_CHECK(ret == PTHREAD_CANCELED);
  /* The pipe still works for the program after the cancelled read. */
  char c = 0;
  TW_CHECK(write(never_written[1], "y", 1) == 1);
  TW_CHECK(read(never_written[0], &c, 1) == 1 && c == 'y');
  return 0;
}
