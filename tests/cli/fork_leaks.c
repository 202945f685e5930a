/* A parent and its forked child each leave a thread blocked at exit, from different functions:
 * both processes add their results to one SARIF file (THREADWATCH_SARIF without %p). */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int fds[2];
static void *reader(void *arg) {
  char c;
  (void)!read(fds[0], &c, 1);
  return arg;
}

__attribute__((noinline)) static void parent_reader(void) {
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
}

__attribute__((noinline)) static void child_reader(void) {
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
}

int main(void) {
  if (pipe(fds) != 0) return 99;
  pid_t pid = fork();
  if (pid == 0) {
    child_reader();
    usleep(100000);
    exit(0); /* exit, not _exit: the exit-time reports of the child */
  }
  parent_reader();
  int status;
  waitpid(pid, &status, 0);
  usleep(100000);
  return 0;
}
