/* Five dining philosophers, each picking up its left fork then its right one: the classic cycle
 * fork0 -> fork1 -> ... -> fork4 -> fork0. All five threads live at once, but a semaphore chain
 * lets them eat one at a time, so this run never deadlocks (semaphores are not locks). */
#include <pthread.h>
#include <semaphore.h>

#include "tw_test.h"

#define N 5

static pthread_mutex_t fork_lock[N];
static sem_t turn[N + 1];
static int meals[N];

static void *philosopher(void *arg) {
  int i = (int)(long)arg;
  pthread_mutex_t *left = &fork_lock[i], *right = &fork_lock[(i + 1) % N];
  while (sem_wait(&turn[i]) != 0) TW_CHECK(errno == EINTR);
  TW_OK(pthread_mutex_lock(left));
  TW_OK(pthread_mutex_lock(right));
  meals[i]++;
  TW_OK(pthread_mutex_unlock(right));
  TW_OK(pthread_mutex_unlock(left));
  TW_CHECK(sem_post(&turn[i + 1]) == 0);
  return NULL;
}

int main(void) {
  pthread_t t[N];
  for (int i = 0; i < N; i++) TW_OK(pthread_mutex_init(&fork_lock[i], NULL));
  for (int i = 0; i <= N; i++) TW_CHECK(sem_init(&turn[i], 0, 0) == 0);
  for (int i = 0; i < N; i++) TW_OK(pthread_create(&t[i], NULL, philosopher, (void *)(long)i));
  TW_CHECK(sem_post(&turn[0]) == 0);
  for (int i = 0; i < N; i++) TW_OK(pthread_join(t[i], NULL));
  for (int i = 0; i < N; i++) TW_CHECK(meals[i] == 1);
  return 0;
}
