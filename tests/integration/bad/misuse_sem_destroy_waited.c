/*
 * sem_destroy while a thread is blocked on the semaphore (POSIX: undefined; glibc returns 0 and
 * leaves the waiter blocked forever). The waiter is detached, so the end of the program is not a
 * leak; the destroy is reported before the real call, with the waiter as context.
 */
#include <pthread.h>
#include <semaphore.h>

#include "tw_test.h"

static sem_t done;
static volatile pid_t waiter_tid;

static void *waiter(void *arg) {
  (void)arg;
  waiter_tid = tw_test_gettid();
  sem_wait(&done); /* never returns */
  return NULL;
}

static TW_NOINLINE void teardown(void) { TW_CHECK(sem_destroy(&done) == 0); }

int main(void) {
  pthread_t t;
  pthread_attr_t attr;
  TW_CHECK(sem_init(&done, 0, 0) == 0);
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  TW_OK(pthread_create(&t, &attr, waiter, NULL));
  while (waiter_tid == 0) sched_yield();
  tw_test_wait_in_syscall(waiter_tid, SYS_futex);
  teardown();
  return 0;
}
