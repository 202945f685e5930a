/*
 * Issue 11 item 6: a signal handler that runs on a small alternate signal stack (8 KiB: glibc's
 * old SIGSTKSZ, still what many programs use) and does blocking-pipe I/O (a self-pipe: it writes a
 * byte and reads it back). The read and write hooks are reachable from signal handlers and must fit
 * in such a stack. The stack has a PROT_NONE guard page below it, so an overflow is a SIGSEGV every
 * time (not a silent corruption). Optional argument: the stack size in bytes (default 8192).
 * The handler runs on the main thread and on a second thread (whose first hooked call it is).
 */
#include <pthread.h>
#include <sys/mman.h>

#include "tw_test.h"

static int fds[2];
static volatile sig_atomic_t handled;
static size_t stack_bytes = 8192;

static void handler(int sig) {
  (void)sig;
  char c = 's';
  if (write(fds[1], &c, 1) != 1) _exit(91);
  if (read(fds[0], &c, 1) != 1 || c != 's') _exit(92);
  handled++;
}

/* An alternate stack of stack_bytes with a guard page below it, for the calling thread. */
static void small_altstack(void) {
  long page = sysconf(_SC_PAGESIZE);
  size_t len = (stack_bytes + (size_t)page - 1) / (size_t)page * (size_t)page;
  char *m = mmap(NULL, len + (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  TW_CHECK(m != MAP_FAILED);
  TW_CHECK(mprotect(m, (size_t)page, PROT_NONE) == 0);
  stack_t ss = {.ss_sp = m + (size_t)page + len - stack_bytes, .ss_size = stack_bytes, .ss_flags = 0};
  TW_CHECK(sigaltstack(&ss, NULL) == 0);
}

static void *second(void *arg) {
  (void)arg;
  small_altstack();
  TW_CHECK(pthread_kill(pthread_self(), SIGUSR1) == 0);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) stack_bytes = (size_t)atol(argv[1]);
  TW_CHECK(pipe(fds) == 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  TW_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  small_altstack();
  TW_CHECK(raise(SIGUSR1) == 0);
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, second, NULL));
  TW_OK(pthread_join(t, NULL));
  return handled == 2 ? 0 : 1;
}
