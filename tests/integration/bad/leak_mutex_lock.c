/* A thread blocked in pthread_mutex_lock on a mutex that main holds at exit: what blocked. */
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic pid_t locker_tid;

static void *locker(void *arg) {
  (void)arg;
  atomic_store(&locker_tid, tw_test_gettid());
  pthread_mutex_lock(&mu); /* main holds mu until the process exits */
  pthread_mutex_unlock(&mu);
  return NULL;
}

TW_NOINLINE void start_locker(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, locker, NULL));
}

int main(void) {
  unsigned long spins = 0;
  pid_t tid;
  pthread_mutex_lock(&mu);
  start_locker();
  while ((tid = atomic_load(&locker_tid)) == 0) tw_test_pause(&spins, "locker start", 0, 0);
  tw_test_wait_in_syscall(tid, SYS_futex); /* the locker sleeps on mu */
  return 0;
}
