/*
 * A thread stuck in read() on a pipe nobody writes stalls (THREADWATCH_STALL is short), and is
 * still stuck when main calls exit(0) once the stall report is written (main watches the JSON
 * file for it; about a second at most): the live stall report first, then the thread-leak report
 * at exit, whose thread still has its wait.
 */
#include <pthread.h>

#include "tw_test.h"

static int fds[2];
static pid_t reader_tid;
static pthread_barrier_t started;

static void *read_forever(void *arg) {
  char c;
  (void)arg;
  reader_tid = tw_test_gettid();
  pthread_barrier_wait(&started);
  TW_CHECK(read(fds[0], &c, 1) == 1); /* nobody writes */
  return NULL;
}

TW_NOINLINE void start_reader(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, read_forever, NULL));
}

int main(void) {
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_barrier_init(&started, NULL, 2));
  start_reader();
  pthread_barrier_wait(&started);
  tw_test_wait_in_syscall(reader_tid, SYS_read);
  tw_test_wait_json_lines(1); /* the stall report */
  tw_test_sleep_ms(300);       /* the reader stays blocked a while longer */
  exit(0);
}
