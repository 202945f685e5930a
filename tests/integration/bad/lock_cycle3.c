/* A cycle over three locks and three threads, run one after the other (no hang):
 * take_ab: A then B, take_bc: B then C, take_ca: C then A. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;

static void nested(pthread_mutex_t *outer, pthread_mutex_t *inner) {
  TW_OK(pthread_mutex_lock(outer));
  TW_OK(pthread_mutex_lock(inner));
  TW_OK(pthread_mutex_unlock(inner));
  TW_OK(pthread_mutex_unlock(outer));
}

static void *take_ab(void *arg) { (void)arg; nested(&lock_a, &lock_b); return NULL; }
static void *take_bc(void *arg) { (void)arg; nested(&lock_b, &lock_c); return NULL; }
static void *take_ca(void *arg) { (void)arg; nested(&lock_c, &lock_a); return NULL; }

int main(void) {
  void *(*fns[3])(void *) = {take_ab, take_bc, take_ca};
  for (int i = 0; i < 3; i++) {
    pthread_t t;
    TW_OK(pthread_create(&t, NULL, fns[i], NULL));
    TW_OK(pthread_join(t, NULL));
  }
  return 0;
}
