/* threadwatch_watch_named() at run time, after a thread exists: the counter is watched from then on
 * in every thread, under the label given; threadwatch_unwatch() stops it (ENOENT the second time).
 * The race itself is bad/race_counter.c's. */
#include <pthread.h>
#include <stdio.h>

#include "../../../include/threadwatch.h"
#include "tw_test.h"

static volatile long counter;

static pid_t main_tid, first_tid;
static volatile int main_joining;

/* One thread at a time, main waiting in pthread_join: see bad/race_counter.c. */
static void wait_turn(pid_t before) {
  unsigned long spins = 0;
  while (!main_joining) tw_test_pause(&spins, "main to join", 0, 0);
  tw_test_wait_in_syscall(main_tid, SYS_futex);
  if (before) tw_test_wait_gone(before);
}

TW_NOINLINE static void inc_a(void) { counter++; }
TW_NOINLINE static void inc_b(void) { counter++; }

static void *thread_a(void *arg) {
  *(volatile pid_t *)arg = tw_test_gettid();
  wait_turn(0);
  for (int i = 0; i < 20; i++) {
    inc_a();
    tw_test_sleep_ms(1);
  }
  return NULL;
}

static void *thread_b(void *arg) {
  (void)arg;
  wait_turn(first_tid);
  for (int i = 0; i < 20; i++) inc_b();
  return NULL;
}

int main(void) {
  pthread_t a, b;
  main_tid = tw_test_gettid();
  int (*volatile join)(pthread_t, void **) = pthread_join; /* see wait_turn */
  volatile pid_t tid = 0;
  TW_OK(pthread_create(&a, NULL, thread_a, (void *)&tid)); /* T2 exists before the watch */
  unsigned long spins = 0;
  while (tid == 0) tw_test_pause(&spins, "T2 to start", 0, 0);
  int rc = threadwatch_watch_named((const void *)&counter, sizeof(counter), "hits");
  first_tid = tid;
  TW_OK(pthread_create(&b, NULL, thread_b, NULL));
  main_joining = 1;
  TW_OK(join(b, NULL));
  TW_OK(join(a, NULL));
  int un = threadwatch_unwatch((const void *)&counter);
  int again = threadwatch_unwatch((const void *)&counter);
  printf("watch %d unwatch %d again %d counter %ld\n", rc, un, again, counter);
  return 0;
}
