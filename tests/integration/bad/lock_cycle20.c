/* A cycle of 20 locks: link_step(i) takes lock i then lock (i + 1) % 20, each in its own thread,
 * the threads one after the other. Reports list at most 16 of the locks. */
#include <pthread.h>

#include "tw_test.h"

#define N 20

static pthread_mutex_t chain[N];

static void *link_step(void *arg) {
  int i = (int)(long)arg;
  TW_OK(pthread_mutex_lock(&chain[i]));
  TW_OK(pthread_mutex_lock(&chain[(i + 1) % N]));
  TW_OK(pthread_mutex_unlock(&chain[(i + 1) % N]));
  TW_OK(pthread_mutex_unlock(&chain[i]));
  return NULL;
}

int main(void) {
  for (int i = 0; i < N; i++) TW_OK(pthread_mutex_init(&chain[i], NULL));
  for (int i = 0; i < N; i++) {
    pthread_t t;
    TW_OK(pthread_create(&t, NULL, link_step, (void *)(long)i));
    TW_OK(pthread_join(t, NULL));
  }
  return 0;
}
