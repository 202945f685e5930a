/* N threads parked forever, for the timing script (scripts/attach-timing.sh) and the comparison
 * with gdb and eu-stack: a third wait on a condvar, a third read a pipe, a third sleep. Prints
 * "ready" when every thread is in its system call (seen in /proc, never by sleeping).
 *
 *   many N */
#include <stdatomic.h>

#include "../integration/tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int fds[2];
static _Atomic pid_t *tids;

TW_NOINLINE static void *condvar_waiter(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  pthread_mutex_lock(&mu);
  for (;;) pthread_cond_wait(&never, &mu);
  return NULL;
}

TW_NOINLINE static void *pipe_reader(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  char c;
  return (void *)(long)read(fds[0], &c, 1);
}

TW_NOINLINE static void *napper(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  for (;;) tw_test_sleep_ms(3600 * 1000);
  return NULL;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  TW_CHECK(n > 0 && pipe(fds) == 0);
  tids = calloc((size_t)n, sizeof(*tids));
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  void *(*fn[3])(void *) = {condvar_waiter, pipe_reader, napper};
  long nr[3] = {SYS_futex, SYS_read, SYS_clock_nanosleep};
  for (long i = 0; i < n; i++) {
    pthread_t t;
    TW_OK(pthread_create(&t, &attr, fn[i % 3], (void *)i));
  }
  for (long i = 0; i < n; i++) {
    unsigned long spins = 0;
    while (atomic_load(&tids[i]) == 0) tw_test_pause(&spins, "thread to start", i, 0);
    tw_test_wait_in_syscall(atomic_load(&tids[i]), nr[i % 3]);
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
