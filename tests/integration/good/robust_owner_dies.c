/* issue 12 item 3: the robust-mutex protocol. A worker takes a robust mutex and ends without
 * unlocking it (as a crashing or killed owner would); the next locker gets EOWNERDEAD, repairs the
 * state, marks the mutex consistent and goes on. Ending while holding a robust mutex is what robust
 * mutexes exist for: no exit-holding-locks report, exit 0. */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"

static pthread_mutex_t m;
static int state;

static TW_NOINLINE void *owner_dies(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&m));
  state = -1; /* half-done update, repaired by the next owner */
  return NULL; /* ends holding m */
}

int main(void) {
  pthread_mutexattr_t a;
  TW_OK(pthread_mutexattr_init(&a));
  TW_OK(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST));
  TW_OK(pthread_mutex_init(&m, &a));
  TW_OK(pthread_mutexattr_destroy(&a));
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, owner_dies, NULL));
  TW_OK(pthread_join(t, NULL));
  int r = pthread_mutex_lock(&m);
  TW_CHECK(r == EOWNERDEAD);
  state = 0; /* repaired */
  TW_OK(pthread_mutex_consistent(&m));
  TW_OK(pthread_mutex_unlock(&m));
  TW_OK(pthread_mutex_lock(&m)); /* usable again */
  TW_OK(pthread_mutex_unlock(&m));
  TW_OK(pthread_mutex_destroy(&m));
  printf("recovered, state %d\n", state);
  return 0;
}
