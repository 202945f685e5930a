/*
 * Self-relock on a rwlock: the only thread read-locks it in read_config, then write-locks it in
 * update_config while still holding the read lock, and blocks forever.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t config = PTHREAD_RWLOCK_INITIALIZER;

TW_NOINLINE void read_config(void) { TW_OK(pthread_rwlock_rdlock(&config)); }

TW_NOINLINE void update_config(void) {
  TW_OK(pthread_rwlock_wrlock(&config)); /* this thread holds it for reading: never returns */
}

int main(void) {
  read_config();
  update_config();
  return 0;
}
