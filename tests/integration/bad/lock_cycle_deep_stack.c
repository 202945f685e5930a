/* Issue 11 item 17 (keeps the detection): `deep` takes 1,000 mutexes in order, holding them all;
 * later `inverse` takes the last one, then the first. A lock-order cycle between two locks 999 held
 * locks apart: a linear design that sends edges only from the innermost held locks must still find
 * it (through the chain of edges sent as the stack was built). */
#include "tw_test.h"

#define N 1000
static pthread_mutex_t m[N];

static TW_NOINLINE void *deep(void *arg) {
  for (int i = 0; i < N; i++) TW_OK(pthread_mutex_lock(&m[i]));
  for (int i = N; i-- > 0;) TW_OK(pthread_mutex_unlock(&m[i]));
  return arg;
}

static TW_NOINLINE void *inverse(void *arg) {
  TW_OK(pthread_mutex_lock(&m[N - 1]));
  TW_OK(pthread_mutex_lock(&m[0]));
  TW_OK(pthread_mutex_unlock(&m[0]));
  TW_OK(pthread_mutex_unlock(&m[N - 1]));
  return arg;
}

int main(void) {
  for (int i = 0; i < N; i++) TW_OK(pthread_mutex_init(&m[i], NULL));
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, deep, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, inverse, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
