/*
 * A three-thread mutex deadlock: first_ab holds A and wants B, second_bc holds B and wants C,
 * third_ca holds C and wants A. A barrier makes all three hold their first lock before any takes
 * its second. main stays in pause() (not a watched call).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t all_hold_first;

static void take_two(pthread_mutex_t *first, pthread_mutex_t *second) {
  TW_OK(pthread_mutex_lock(first));
  pthread_barrier_wait(&all_hold_first);
  TW_OK(pthread_mutex_lock(second)); /* held by the next thread in the cycle */
  TW_OK(pthread_mutex_unlock(second));
  TW_OK(pthread_mutex_unlock(first));
}

static void *first_ab(void *arg) {
  (void)arg;
  take_two(&lock_a, &lock_b);
  return NULL;
}

static void *second_bc(void *arg) {
  (void)arg;
  take_two(&lock_b, &lock_c);
  return NULL;
}

static void *third_ca(void *arg) {
  (void)arg;
  take_two(&lock_c, &lock_a);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_barrier_init(&all_hold_first, NULL, 3));
  TW_OK(pthread_create(&t, NULL, first_ab, NULL));
  TW_OK(pthread_create(&t, NULL, second_bc, NULL));
  TW_OK(pthread_create(&t, NULL, third_ca, NULL));
  tw_test_idle_forever();
}
