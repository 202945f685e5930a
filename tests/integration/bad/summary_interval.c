/*
 * THREADWATCH_INTERVAL: the one-line summary on the text log while three readers are blocked in
 * read() on a pipe. No report is made (everything is joined), so the program keeps its exit 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tw_test.h"

static int fds[2];
static _Atomic pid_t tids[3];

static void *reader(void *arg) {
  char c[4];
  atomic_store(&tids[(long)arg], tw_test_gettid());
  TW_CHECK(read(fds[0], c, 1) == 1);
  return arg;
}

int main(void) {
  pthread_t t[3];
  TW_CHECK(pipe(fds) == 0);
  for (long i = 0; i < 3; i++) TW_OK(pthread_create(&t[i], NULL, reader, (void *)i));
  for (int i = 0; i < 3; i++) {
    unsigned long spins = 0;
    while (atomic_load(&tids[i]) == 0) tw_test_pause(&spins, "reader start", i, 0);
    tw_test_wait_in_syscall(atomic_load(&tids[i]), SYS_read);
  }
  /* Several 50 ms summary periods pass while all three readers are blocked (the point of the test:
   * periodic output needs time to pass; correctness does not depend on how much). */
  struct timespec ts = {0, 300 * 1000 * 1000};
  nanosleep(&ts, NULL);
  TW_CHECK(write(fds[1], "abc", 3) == 3);
  for (int i = 0; i < 3; i++) TW_OK(pthread_join(t[i], NULL));
  return 0;
}
