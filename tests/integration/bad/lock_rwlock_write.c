/* rwlock write-write inversion: writer_ab wrlocks A then B; writer_ba (run after it) wrlocks B
 * then A. */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t rw_a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw_b = PTHREAD_RWLOCK_INITIALIZER;

static void *writer_ab(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_wrlock(&rw_a));
  TW_OK(pthread_rwlock_wrlock(&rw_b));
  TW_OK(pthread_rwlock_unlock(&rw_b));
  TW_OK(pthread_rwlock_unlock(&rw_a));
  return NULL;
}

static void *writer_ba(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_wrlock(&rw_b));
  TW_OK(pthread_rwlock_wrlock(&rw_a));
  TW_OK(pthread_rwlock_unlock(&rw_a));
  TW_OK(pthread_rwlock_unlock(&rw_b));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, writer_ab, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, writer_ba, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
