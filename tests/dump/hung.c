/* A program that hangs on purpose, for tests/dump/run.sh: the dump must show what each thread waits
 * for, grouped by stack.
 *
 *   hung            3 threads in pthread_cond_wait on one condvar (never signalled), 1 thread in
 *                   read() on a pipe nobody writes, 1 thread in pause() (a call threadwatch does
 *                   not watch: it counts as running), main in pthread_join of the first: forever.
 *   hung exit       1 thread in read() on a pipe; main waits for SIGUSR1, then feeds the pipe,
 *                   joins and returns 0 (a normal exit: the control socket must go away).
 *   hung fork       1 thread in pthread_cond_wait, then fork(): the child starts 1 thread in read()
 *                   on a pipe and both processes join forever (each has its own socket). */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int pipefd[2];

__attribute__((noinline)) static void *cond_waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  for (;;) pthread_cond_wait(&never, &mu); /* nobody signals it */
  return NULL;
}

__attribute__((noinline)) static void *pipe_reader(void *arg) {
  (void)arg;
  char c;
  ssize_t r = read(pipefd[0], &c, 1); /* nobody writes, except `hung exit` when told to */
  return (void *)(long)r;
}

__attribute__((noinline)) static void *idler(void *arg) {
  (void)arg;
  for (;;) pause(); /* no signal comes */
  return NULL;
}

__attribute__((noinline)) static void start_waiters(pthread_t *t, int n) {
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, cond_waiter, NULL);
}

__attribute__((noinline)) static void start_reader(pthread_t *t) {
  pthread_create(t, NULL, pipe_reader, NULL);
  pthread_setname_np(*t, "reader");
}

static int hang(void) {
  pthread_t t[5];
  start_waiters(t, 3);
  start_reader(&t[3]);
  pthread_create(&t[4], NULL, idler, NULL);
  for (int i = 0; i < 5; i++) pthread_join(t[i], NULL);
  return 0;
}

static int exit_when_told(void) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* before any thread: only sigwait takes it */
  pthread_t t;
  start_reader(&t);
  int sig;
  sigwait(&usr1, &sig);
  if (write(pipefd[1], "x", 1) != 1) return 1;
  pthread_join(t, NULL);
  return 0;
}

static int fork_and_hang(void) {
  pthread_t t;
  start_waiters(&t, 1);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    pthread_t r;
    start_reader(&r);
    pthread_join(r, NULL);
    return 0;
  }
  pthread_join(t, NULL);
  return 0;
}

int main(int argc, char **argv) {
  if (pipe(pipefd) != 0) return 1;
  if (argc > 1 && strcmp(argv[1], "exit") == 0) return exit_when_told();
  if (argc > 1 && strcmp(argv[1], "fork") == 0) return fork_and_hang();
  return hang();
}
