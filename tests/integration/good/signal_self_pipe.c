/*
 * The self-pipe trick: a signal handler writes to a pipe that the main thread is blocked reading.
 * The write hook runs inside a signal handler that interrupted the read hook (hazard 6).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "tw_test.h"

#define ROUNDS 50

static int self_pipe[2];
static pid_t main_tid;
static _Atomic int rounds_done;

static void on_usr1(int sig) {
  int saved = errno;
  char c = (char)sig;
  (void)!write(self_pipe[1], &c, 1);
  errno = saved;
}

static void *signaller(void *arg) {
  pthread_t main_thread = *(pthread_t *)arg;
  unsigned long spins = 0;
  for (int i = 0; i < ROUNDS; i++) {
    while (atomic_load(&rounds_done) != i) tw_test_pause(&spins, "main to finish a round", i, 0);
    tw_test_wait_in_syscall(main_tid, SYS_read); /* main is blocked reading the self-pipe */
    TW_OK(pthread_kill(main_thread, SIGUSR1));
  }
  return NULL;
}

int main(void) {
  struct sigaction sa;
  pthread_t self = pthread_self(), t;
  main_tid = tw_test_gettid();
  TW_CHECK(pipe(self_pipe) == 0);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  TW_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  TW_OK(pthread_create(&t, NULL, signaller, &self));
  for (int i = 0; i < ROUNDS; i++) {
    char c;
    ssize_t n;
    do n = read(self_pipe[0], &c, 1);
    while (n < 0 && errno == EINTR);
    TW_CHECK(n == 1 && c == SIGUSR1);
    atomic_fetch_add(&rounds_done, 1);
  }
  TW_OK(pthread_join(t, NULL));
  return 0;
}
