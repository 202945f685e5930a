/* rwlock read-read "inversion": read_ab rdlocks A then B, read_ba (run after it) rdlocks B then A.
 * Readers never wait for readers, so (with no writer ever taking both) this cannot deadlock. */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t rw_a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw_b = PTHREAD_RWLOCK_INITIALIZER;

static void *read_ab(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_rdlock(&rw_a));
  TW_OK(pthread_rwlock_rdlock(&rw_b));
  TW_OK(pthread_rwlock_unlock(&rw_b));
  TW_OK(pthread_rwlock_unlock(&rw_a));
  return NULL;
}

static void *read_ba(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_rdlock(&rw_b));
  TW_OK(pthread_rwlock_rdlock(&rw_a));
  TW_OK(pthread_rwlock_unlock(&rw_a));
  TW_OK(pthread_rwlock_unlock(&rw_b));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, read_ab, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, read_ba, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
