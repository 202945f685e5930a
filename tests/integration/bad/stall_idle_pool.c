/* issue 12 item 4: an idle worker pool is not stuck. Three workers wait for work, one on a condvar
 * (with its predicate), one reading a pipe, one reading an eventfd (argv[1] picks which one runs:
 * condvar, pipe or eventfd). Nothing is queued for longer than THREADWATCH_STALL: the main thread
 * waits until threadwatch has written its stall report (it watches the JSON file, no sleep), then
 * hands the worker its "quit" work item and joins it. A correct program: the stall is reported as
 * a warning that says why the wait looks idle (nobody signalled or wrote during the wait, and the
 * running main thread could), and the exit status stays 0. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int quit;
static int fds[2], efd;

static TW_NOINLINE void *condvar_worker(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  while (!quit) TW_OK(pthread_cond_wait(&cv, &mu)); /* idle until there is work */
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

static TW_NOINLINE void *pipe_worker(void *arg) {
  (void)arg;
  char c;
  TW_CHECK(read(fds[0], &c, 1) == 1); /* idle until a work item arrives */
  return NULL;
}

static TW_NOINLINE void *eventfd_worker(void *arg) {
  (void)arg;
  uint64_t v;
  TW_CHECK(read(efd, &v, sizeof(v)) == (ssize_t)sizeof(v)); /* idle until work is counted in */
  return NULL;
}

int main(int argc, char **argv) {
  const char *kind = argc > 1 ? argv[1] : "condvar";
  void *(*fn)(void *) = strcmp(kind, "pipe") == 0      ? pipe_worker
                        : strcmp(kind, "eventfd") == 0 ? eventfd_worker
                                                       : condvar_worker;
  TW_CHECK(pipe(fds) == 0);
  TW_CHECK((efd = eventfd(0, 0)) >= 0);
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, fn, NULL));
  tw_test_wait_json_lines(1); /* the stall report: the worker has been idle past the threshold */
  if (fn == condvar_worker) {
    TW_OK(pthread_mutex_lock(&mu));
    quit = 1;
    TW_OK(pthread_cond_signal(&cv));
    TW_OK(pthread_mutex_unlock(&mu));
  } else if (fn == pipe_worker) {
    TW_CHECK(write(fds[1], "q", 1) == 1);
  } else {
    uint64_t one = 1;
    TW_CHECK(write(efd, &one, sizeof(one)) == (ssize_t)sizeof(one));
  }
  TW_OK(pthread_join(t, NULL));
  printf("%s worker done\n", kind);
  return 0;
}
