/* A destroyed and re-initialised lock is a new lock: first_pass() takes A then B; then A is
 * destroyed and a new mutex is initialised in the same memory; second_pass() takes B then the new
 * lock. The old A -> B order says nothing about the new lock: no report. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t slot; /* A, then the new lock at the same address */
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static void *first_pass(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&slot));
  TW_OK(pthread_mutex_lock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&slot));
  return NULL;
}

static void *second_pass(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&lock_b));
  TW_OK(pthread_mutex_lock(&slot));
  TW_OK(pthread_mutex_unlock(&slot));
  TW_OK(pthread_mutex_unlock(&lock_b));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_mutex_init(&slot, NULL));
  TW_OK(pthread_create(&t, NULL, first_pass, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_mutex_destroy(&slot));
  TW_OK(pthread_mutex_init(&slot, NULL)); /* a new lock, same memory */
  TW_OK(pthread_create(&t, NULL, second_pass, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
