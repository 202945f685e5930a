/*
 * 100 threads blocked forever in read() on a pipe nobody writes to, never joined: exactly one
 * grouped thread-leak report (what "blocked", count 100, wait call read).
 */
#include <pthread.h>

#include "tw_test.h"

#define NREADERS 100

static int pipe_fds[2];
static pid_t reader_tids[NREADERS];
static pthread_barrier_t started;

struct reader_arg {
  int index;
};
static struct reader_arg args[NREADERS];

static void *reader_main(void *p) {
  struct reader_arg *a = p;
  char c;
  reader_tids[a->index] = tw_test_gettid();
  pthread_barrier_wait(&started);
  /* Nobody ever writes: this blocks until the process exits. */
  ssize_t n = read(pipe_fds[0], &c, 1);
  return (void *)n;
}

TW_NOINLINE void spawn_readers(void) {
  for (int i = 0; i < NREADERS; i++) {
    pthread_t t;
    args[i].index = i;
    TW_OK(pthread_create(&t, NULL, reader_main, &args[i]));
  }
}

int main(void) {
  TW_CHECK(pipe(pipe_fds) == 0);
  TW_OK(pthread_barrier_init(&started, NULL, NREADERS + 1));
  spawn_readers();
  pthread_barrier_wait(&started); /* every reader has started and stored its tid */
  for (int i = 0; i < NREADERS; i++) tw_test_wait_in_syscall(reader_tids[i], SYS_read);
  return 0;
}
