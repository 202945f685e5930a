/* Issue 11 item 12: a signal handler may leave a blocked read() with siglongjmp (read is
 * async-signal-safe, and so is jumping out of the handler that interrupted it). The thread then
 * runs on, yet threadwatch kept its read() wait state: a false `stall` after THREADWATCH_STALL
 * (200ms in the .env). The thread afterwards only sleeps in nanosleep (no hooked call), so only the
 * reporter can tell the wait is over. Must stay silent. */
#include <setjmp.h>
#include <stdatomic.h>

#include "tw_test.h"

static int fds[2];
static sigjmp_buf env;
static atomic_int jumped, finish;
static atomic_int tid;

static void on_usr1(int sig) {
  (void)sig;
  siglongjmp(env, 1);
}

static TW_NOINLINE void blocked_read(void) {
  char c;
  ssize_t r = read(fds[0], &c, 1); /* nobody writes: only the signal ends it */
  fprintf(stderr, "read returned %zd\n", r);
  exit(99);
}

static void *reader(void *arg) {
  atomic_store(&tid, tw_test_gettid());
  if (sigsetjmp(env, 1) == 0) blocked_read();
  atomic_store(&jumped, 1);
  while (!atomic_load(&finish)) tw_test_sleep_ms(5); /* running, in no watched call */
  return arg;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  TW_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  TW_CHECK(pipe(fds) == 0);
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, reader, NULL));
  unsigned long spins = 0;
  while (atomic_load(&tid) == 0) tw_test_pause(&spins, "reader tid", 0, 0);
  tw_test_wait_in_syscall(atomic_load(&tid), SYS_read);
  TW_OK(pthread_kill(t, SIGUSR1));
  spins = 0;
  while (!atomic_load(&jumped)) tw_test_pause(&spins, "reader to jump out", 0, 0);
  tw_test_sleep_ms(1000); /* five stall thresholds with the thread running */
  atomic_store(&finish, 1);
  TW_OK(pthread_join(t, NULL));
  return 0;
}
