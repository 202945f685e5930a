/*
 * A semaphore nobody posts: the worker waits for a job that never comes, and main joins it.
 * Every thread is asleep (Go's "all goroutines are asleep"), though no thread waits for another's
 * lock.
 */
#include <pthread.h>
#include <semaphore.h>

#include "tw_test.h"

static sem_t jobs;

static TW_NOINLINE void *wait_for_job(void *arg) {
  (void)arg;
  TW_CHECK(sem_wait(&jobs) == 0); /* blocks forever */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(sem_init(&jobs, 0, 0) == 0);
  TW_OK(pthread_create(&t, NULL, wait_for_job, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
