/*
 * A semaphore cycle: sem_a is posted only by worker_a and waited on by worker_b, sem_b the other
 * way round. Each posts once and takes the other's token, then both wait again and nobody posts
 * any more. main stays in pause() (a call threadwatch does not watch), so only the cycle is stuck.
 */
#include <pthread.h>
#include <semaphore.h>

#include "tw_test.h"

static sem_t sem_a, sem_b;

static TW_NOINLINE void exchange(sem_t *mine, sem_t *theirs) {
  TW_CHECK(sem_post(mine) == 0);
  TW_CHECK(sem_wait(theirs) == 0); /* the other one's token */
  TW_CHECK(sem_wait(theirs) == 0); /* the other one is waiting too: blocks forever */
}

static void *worker_a(void *arg) {
  (void)arg;
  exchange(&sem_a, &sem_b);
  return NULL;
}

static void *worker_b(void *arg) {
  (void)arg;
  exchange(&sem_b, &sem_a);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(sem_init(&sem_a, 0, 0) == 0 && sem_init(&sem_b, 0, 0) == 0);
  TW_OK(pthread_create(&t, NULL, worker_a, NULL));
  TW_OK(pthread_create(&t, NULL, worker_b, NULL));
  tw_test_idle_forever();
}
