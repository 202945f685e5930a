/*
 * The twin of bad/misuse_use_after_destroy*: a default mutex, an error-checking mutex and a
 * condvar, each used, destroyed, initialised again at the same address (a new object) and used
 * again by a worker created afterwards, then destroyed for good and never touched again.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t locks[2]; /* [0] default, [1] error-checking */
static pthread_cond_t done_cv;
static long stats;

static void init_all(void) {
  TW_OK(pthread_mutex_init(&locks[0], NULL));
  tw_test_errorcheck_init(&locks[1]);
  TW_OK(pthread_cond_init(&done_cv, NULL));
}

static void destroy_all(void) {
  for (int k = 0; k < 2; k++) TW_OK(pthread_mutex_destroy(&locks[k]));
  TW_OK(pthread_cond_destroy(&done_cv));
}

static void *use_all(void *arg) {
  (void)arg;
  for (int k = 0; k < 2; k++) {
    TW_OK(pthread_mutex_lock(&locks[k]));
    stats++;
    TW_OK(pthread_mutex_unlock(&locks[k]));
  }
  TW_OK(pthread_cond_signal(&done_cv));
  TW_OK(pthread_cond_broadcast(&done_cv));
  return NULL;
}

int main(void) {
  pthread_t t;
  init_all();
  use_all(NULL);
  destroy_all();
  init_all(); /* new objects at the same addresses */
  TW_OK(pthread_create(&t, NULL, use_all, NULL));
  TW_OK(pthread_join(t, NULL));
  destroy_all();
  TW_CHECK(stats == 4);
  return 0;
}
