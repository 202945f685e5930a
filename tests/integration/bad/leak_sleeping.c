/*
 * A poller left sleeping: the thread sleeps between polls and is never joined. At exit it is in
 * sleep(): the leak report says "sleeping", with the length of the sleep and where.
 */
#include <pthread.h>
#include <unistd.h>

#include "tw_test.h"

static volatile pid_t poller_tid;

static TW_NOINLINE void *poll_forever(void *arg) {
  (void)arg;
  poller_tid = tw_test_gettid();
  for (;;) sleep(100);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, poll_forever, NULL));
  while (poller_tid == 0) sched_yield();
  tw_test_wait_in_syscall(poller_tid, SYS_clock_nanosleep);
  return 0;
}
