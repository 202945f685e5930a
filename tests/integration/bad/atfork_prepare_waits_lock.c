/*
 * Issue 11 item 2: an atfork prepare handler that locks a mutex another thread holds (libraries
 * take their own locks in prepare so that the child gets them in a consistent state). The holder
 * releases the mutex only once main is really blocked on it inside the handler (observed in
 * /proc), so main's lock takes the contended path inside fork.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "tw_test.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t held;
static pid_t main_tid, parent_pid;
static volatile int in_prepare;

static void prepare(void) {
  in_prepare = 1;
  pthread_mutex_lock(&m); /* blocks until the holder lets go */
}
static void parent_done(void) { pthread_mutex_unlock(&m); }
static void child_done(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent_pid) _exit(97);
  pthread_mutex_unlock(&m);
}

static void *holder(void *arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  pthread_barrier_wait(&held);
  unsigned long spins = 0;
  while (!in_prepare) tw_test_pause(&spins, "main to enter the prepare handler", 0, 0);
  tw_test_wait_in_syscall(main_tid, SYS_futex); /* main waits for m inside fork */
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(void) {
  pthread_t t;
  main_tid = tw_test_gettid();
  parent_pid = getpid();
  TW_OK(pthread_barrier_init(&held, NULL, 2));
  TW_OK(pthread_atfork(prepare, parent_done, child_done));
  TW_OK(pthread_create(&t, NULL, holder, NULL));
  pthread_barrier_wait(&held);
  pid_t pid = fork();
  TW_CHECK(pid >= 0);
  if (pid == 0) _exit(0);
  int status;
  TW_CHECK(waitpid(pid, &status, 0) == pid);
  TW_OK(pthread_join(t, NULL));
  printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
