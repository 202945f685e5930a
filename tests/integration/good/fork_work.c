/*
 * fork in a threaded program: a parent thread is alive (blocked in read) during the fork; the child
 * creates and joins its own threads and exits 0; the parent waits for it and joins its thread.
 * The child must not inherit the parent's threads as leaks (hazard 7).
 */
#include <pthread.h>
#include <sys/wait.h>

#include "tw_test.h"

static int release_pipe[2];
static pthread_barrier_t started;

static void *parent_thread(void *arg) {
  (void)arg;
  char c;
  pthread_barrier_wait(&started);
  ssize_t n = read(release_pipe[0], &c, 1);
  return (void *)n;
}

static void *child_work(void *arg) {
  long *p = arg;
  *p *= 2;
  return NULL;
}

static int child_main(void) {
  pthread_t t[4];
  long v[4] = {1, 2, 3, 4};
  for (int i = 0; i < 4; i++) TW_OK(pthread_create(&t[i], NULL, child_work, &v[i]));
  for (int i = 0; i < 4; i++) TW_OK(pthread_join(t[i], NULL));
  return v[0] + v[1] + v[2] + v[3] == 20 ? 0 : 1;
}

int main(void) {
  pthread_t t;
  int status;
  TW_CHECK(pipe(release_pipe) == 0);
  TW_OK(pthread_barrier_init(&started, NULL, 2));
  TW_OK(pthread_create(&t, NULL, parent_thread, NULL));
  pthread_barrier_wait(&started);
  fflush(stdout);
  pid_t child = fork();
  TW_CHECK(child >= 0);
  if (child == 0) exit(child_main());
  TW_CHECK(waitpid(child, &status, 0) == child);
  TW_CHECK(write(release_pipe[1], "x", 1) == 1);
  TW_OK(pthread_join(t, NULL));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "child failed: status 0x%x\n", status);
    return 1;
  }
  return 0;
}
