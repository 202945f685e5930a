/* A real potential deadlock through rwlocks: read_a_write_b holds A for read and wants B for
 * write; read_b_write_a holds B for read and wants A for write. Run together, each would wait for
 * the other's read hold forever. Here they run one after the other. */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t rw_a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rw_b = PTHREAD_RWLOCK_INITIALIZER;

static void *read_a_write_b(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_rdlock(&rw_a));
  TW_OK(pthread_rwlock_wrlock(&rw_b));
  TW_OK(pthread_rwlock_unlock(&rw_b));
  TW_OK(pthread_rwlock_unlock(&rw_a));
  return NULL;
}

static void *read_b_write_a(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_rdlock(&rw_b));
  TW_OK(pthread_rwlock_wrlock(&rw_a));
  TW_OK(pthread_rwlock_unlock(&rw_a));
  TW_OK(pthread_rwlock_unlock(&rw_b));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, read_a_write_b, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, read_b_write_a, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
