/*
 * A sleeping thread is not asleep in Go's sense: it wakes by itself. T2 sleeps (longer than the
 * THREADWATCH_STALL of sleep_not_asleep.env) while main waits in pthread_join: no deadlock, and a
 * sleep is never a stall. main joins only once T2 has slept (it watches a flag), so the join
 * itself stays short.
 */
#include <pthread.h>
#include <unistd.h>

#include "tw_test.h"

static volatile int slept;

static void *napper(void *arg) {
  (void)arg;
  TW_CHECK(usleep(400 * 1000) == 0);
  struct timespec ts = {0, 200 * 1000 * 1000};
  TW_CHECK(nanosleep(&ts, NULL) == 0);
  slept = 1;
  return NULL;
}

static void *joined_sleeper(void *arg) {
  (void)arg;
  struct timespec ts = {0, 300 * 1000 * 1000};
  TW_CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) == 0);
  return NULL;
}

int main(void) {
  pthread_t t, u;
  TW_OK(pthread_create(&t, NULL, napper, NULL));
  TW_OK(pthread_create(&u, NULL, joined_sleeper, NULL));
  TW_OK(pthread_join(u, NULL)); /* the only other thread sleeps meanwhile: not all asleep */
  while (!slept) sched_yield();
  TW_OK(pthread_join(t, NULL));
  return 0;
}
