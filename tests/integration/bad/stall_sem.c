/*
 * A consumer waits on a semaphore longer than THREADWATCH_STALL; main, which could post it, is in
 * no watched call (it reads the JSON report file). Once the stall report is written, main posts
 * and joins: one stall report, then a normal end (exit status 66 for the report).
 */
#include <pthread.h>
#include <semaphore.h>

#include "tw_test.h"

static sem_t items;
static volatile pid_t consumer_tid;

static TW_NOINLINE void *consume(void *arg) {
  (void)arg;
  consumer_tid = tw_test_gettid();
  TW_CHECK(sem_wait(&items) == 0); /* posted only after the stall report */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(sem_init(&items, 0, 0) == 0);
  TW_OK(pthread_create(&t, NULL, consume, NULL));
  tw_test_wait_json_lines(1);
  TW_CHECK(sem_post(&items) == 0);
  TW_OK(pthread_join(t, NULL));
  TW_CHECK(sem_destroy(&items) == 0);
  return 0;
}
