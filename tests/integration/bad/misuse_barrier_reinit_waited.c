/*
 * bar_bad 3: a barrier re-initialised while a thread waits on it (the waiter then waits forever;
 * it is detached, so the end of the program is not a leak).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_barrier_t *bar;
static volatile pid_t waiter_tid;

static void *waiter(void *arg) {
  (void)arg;
  waiter_tid = tw_test_gettid();
  pthread_barrier_wait(bar);
  return NULL;
}

static TW_NOINLINE void reset_barrier(void) { TW_OK(pthread_barrier_init(bar, NULL, 3)); }

int main(void) {
  pthread_t t;
  pthread_attr_t attr;
  bar = malloc(sizeof(*bar));
  TW_CHECK(bar != NULL);
  TW_OK(pthread_barrier_init(bar, NULL, 2));
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  TW_OK(pthread_create(&t, &attr, waiter, NULL));
  while (waiter_tid == 0) sched_yield();
  tw_test_wait_in_syscall(waiter_tid, SYS_futex);
  reset_barrier();
  return 0;
}
