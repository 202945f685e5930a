/*
 * bar_bad 4: a barrier destroyed while a thread waits on it. glibc's destroy then waits for the
 * waiters to leave: here a rescuer thread, which watches for the report, completes the round, so
 * the destroy returns and the program ends.
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

static void *rescuer(void *arg) {
  (void)arg;
  tw_test_wait_json_lines(1);
  pthread_barrier_wait(bar);
  return NULL;
}

static TW_NOINLINE void teardown(void) { TW_OK(pthread_barrier_destroy(bar)); }

int main(void) {
  pthread_t w, r;
  bar = malloc(sizeof(*bar));
  TW_CHECK(bar != NULL);
  TW_OK(pthread_barrier_init(bar, NULL, 2));
  TW_OK(pthread_create(&w, NULL, waiter, NULL));
  while (waiter_tid == 0) sched_yield();
  tw_test_wait_in_syscall(waiter_tid, SYS_futex);
  TW_OK(pthread_create(&r, NULL, rescuer, NULL));
  teardown();
  TW_OK(pthread_join(w, NULL));
  TW_OK(pthread_join(r, NULL));
  free(bar);
  return 0;
}
