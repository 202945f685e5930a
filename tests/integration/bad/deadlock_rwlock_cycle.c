/*
 * A rwlock deadlock: write_then_read holds R1 for writing and wants R2 for reading;
 * write_then_write holds R2 for writing and wants R1 for writing. A barrier makes both hold their
 * first lock before either takes its second. main stays in pause() (not a watched call).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t r1 = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t r2 = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t both_hold_first;

static void *write_then_read(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_wrlock(&r1));
  pthread_barrier_wait(&both_hold_first);
  TW_OK(pthread_rwlock_rdlock(&r2)); /* write-held by write_then_write */
  return NULL;
}

static void *write_then_write(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_wrlock(&r2));
  pthread_barrier_wait(&both_hold_first);
  TW_OK(pthread_rwlock_wrlock(&r1)); /* write-held by write_then_read */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_barrier_init(&both_hold_first, NULL, 2));
  TW_OK(pthread_create(&t, NULL, write_then_read, NULL));
  TW_OK(pthread_create(&t, NULL, write_then_write, NULL));
  tw_test_idle_forever();
}
