/*
 * The twin of bad/misuse_join_detached: detached threads are never joined, joinable ones are. One
 * worker is created detached (attribute), one is detached after creation while it runs, one is
 * joined; main learns that the detached ones are done through a counter under a mutex.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done; /* under mu */

static void *worker(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  done++;
  TW_OK(pthread_cond_broadcast(&cv));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

int main(void) {
  pthread_attr_t attr;
  pthread_t a, b, c;
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  TW_OK(pthread_create(&a, &attr, worker, NULL));
  TW_OK(pthread_attr_destroy(&attr));
  TW_OK(pthread_create(&b, NULL, worker, NULL));
  TW_OK(pthread_detach(b));
  TW_OK(pthread_create(&c, NULL, worker, NULL));
  TW_OK(pthread_join(c, NULL));
  TW_OK(pthread_mutex_lock(&mu));
  while (done < 3) TW_OK(pthread_cond_wait(&cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  return 0;
}
