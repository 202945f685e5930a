/*
 * A threaded parent forks; the child leaks a thread and exits 0, so threadwatch (inherited through
 * LD_PRELOAD) must report in the child and make it exit 66. The parent, whose own thread was alive
 * during the fork and is joined afterwards, stays clean: it exits 0 only if the child exited 66.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "tw_test.h"

static int release_pipe[2];
static pthread_barrier_t helper_started;
static _Atomic pid_t leaked_tid;

/* The parent's own thread: alive across the fork, blocked in read, joined at the end. */
static void *parent_helper(void *arg) {
  (void)arg;
  char c;
  pthread_barrier_wait(&helper_started);
  ssize_t n = read(release_pipe[0], &c, 1);
  return (void *)n;
}

static void *leaked(void *arg) {
  (void)arg;
  atomic_store(&leaked_tid, tw_test_gettid());
  return NULL;
}

TW_NOINLINE void child_spawn_leaker(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, leaked, NULL));
}

TW_NOINLINE static int child_main(void) {
  pid_t tid;
  unsigned long spins = 0;
  child_spawn_leaker();
  while ((tid = atomic_load(&leaked_tid)) == 0) tw_test_pause(&spins, "leaked start", 0, 0);
  tw_test_wait_gone(tid);
  return 0;
}

int main(void) {
  pthread_t helper;
  TW_CHECK(pipe(release_pipe) == 0);
  TW_OK(pthread_barrier_init(&helper_started, NULL, 2));
  TW_OK(pthread_create(&helper, NULL, parent_helper, NULL));
  pthread_barrier_wait(&helper_started);

  fflush(stdout);
  pid_t child = fork();
  TW_CHECK(child >= 0);
  if (child == 0) exit(child_main());

  int status;
  TW_CHECK(waitpid(child, &status, 0) == child);
  TW_CHECK(write(release_pipe[1], "x", 1) == 1);
  TW_OK(pthread_join(helper, NULL));
  if (!WIFEXITED(status)) {
    printf("child did not exit normally (status 0x%x)\n", status);
    return 1;
  }
  printf("child exit status: %d\n", WEXITSTATUS(status));
  return WEXITSTATUS(status) == 66 ? 0 : 1;
}
