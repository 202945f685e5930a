/* Issue 11 item 12, the hook side: after a signal handler took the thread out of a blocked read()
 * with siglongjmp, threadwatch still counted the thread as inside a watched call (its nesting count
 * stayed up), so every later wait of that thread was taken for a signal handler's nested call and
 * not published: here a self-relock hangs with no report at all. The thread's next hooked call must
 * see that the old wait's frame is gone (it runs at or above that frame, on the same stack) and end
 * the stale wait. Expected: the self-relock deadlock report. */
#include <setjmp.h>
#include <stdatomic.h>

#include "tw_test.h"

static int fds[2];
static sigjmp_buf env;
static atomic_int tid;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

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

static TW_NOINLINE void relock_after_jump(void) {
  TW_OK(pthread_mutex_lock(&m));
  pthread_mutex_lock(&m); /* a default mutex relocked by its owner: blocks forever */
}

static void *reader(void *arg) {
  atomic_store(&tid, tw_test_gettid());
  if (sigsetjmp(env, 1) == 0) blocked_read();
  relock_after_jump();
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
  tw_test_idle_forever();
}
