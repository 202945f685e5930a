/* Issue 11 item 12: the `jumper` thread waits in pthread_mutex_lock(M), which the `holder` thread
 * holds; a signal handler takes the jumper out of the wait with siglongjmp (no lock held
 * meanwhile, so no lock order is formed). The jumper then takes N and runs on (sleeping in
 * nanosleep, no hooked call), and the holder blocks in pthread_mutex_lock(N). threadwatch kept the
 * jumper's stale wait on M, which the holder holds, and the holder waits for N, which the jumper
 * holds: a false `deadlock` wait-cycle. After a second the jumper releases N and everything ends
 * normally. Must stay silent. */
#include <setjmp.h>
#include <stdatomic.h>

#include "tw_test.h"

static pthread_mutex_t M = PTHREAD_MUTEX_INITIALIZER, N = PTHREAD_MUTEX_INITIALIZER;
static sigjmp_buf env;
static atomic_int jumped, release_n, holder_ready, jumper_tid, holder_tid;

static void on_usr1(int sig) {
  (void)sig;
  siglongjmp(env, 1);
}

static TW_NOINLINE void lock_m(void) {
  pthread_mutex_lock(&M); /* held by the holder: only the signal ends the wait */
  fprintf(stderr, "got M\n");
  exit(99);
}

static void *jumper(void *arg) {
  atomic_store(&jumper_tid, tw_test_gettid());
  if (sigsetjmp(env, 1) == 0) lock_m();
  TW_OK(pthread_mutex_lock(&N));
  atomic_store(&jumped, 1);
  while (!atomic_load(&release_n)) tw_test_sleep_ms(5); /* running, holding N */
  TW_OK(pthread_mutex_unlock(&N));
  return arg;
}

static void *holder(void *arg) {
  atomic_store(&holder_tid, tw_test_gettid());
  TW_OK(pthread_mutex_lock(&M));
  atomic_store(&holder_ready, 1);
  unsigned long spins = 0;
  while (!atomic_load(&jumped)) tw_test_pause(&spins, "jumper to jump out and take N", 0, 0);
  TW_OK(pthread_mutex_lock(&N)); /* blocks until the jumper lets N go */
  TW_OK(pthread_mutex_unlock(&N));
  TW_OK(pthread_mutex_unlock(&M));
  return arg;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  TW_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  pthread_t h, j;
  TW_OK(pthread_create(&h, NULL, holder, NULL));
  unsigned long spins = 0;
  while (!atomic_load(&holder_ready)) tw_test_pause(&spins, "holder to hold M", 0, 0);
  TW_OK(pthread_create(&j, NULL, jumper, NULL));
  spins = 0;
  while (atomic_load(&jumper_tid) == 0) tw_test_pause(&spins, "jumper tid", 0, 0);
  tw_test_wait_in_syscall(atomic_load(&jumper_tid), SYS_futex); /* in lock_m: its only futex */
  TW_OK(pthread_kill(j, SIGUSR1));
  spins = 0;
  while (!atomic_load(&jumped)) tw_test_pause(&spins, "jumper to take N", 0, 0);
  tw_test_wait_in_syscall(atomic_load(&holder_tid), SYS_futex); /* the holder waits for N */
  tw_test_sleep_ms(1000); /* ten reporter ticks with the (false) cycle in view */
  atomic_store(&release_n, 1);
  TW_OK(pthread_join(j, NULL));
  TW_OK(pthread_join(h, NULL));
  return 0;
}
