/* Threads that are all joined, including threads created by threads and joined by their creator. */
#include <pthread.h>

#include "tw_test.h"

static void *leaf(void *arg) { return arg; }

static void *branch(void *arg) {
  pthread_t kids[4];
  for (int i = 0; i < 4; i++) TW_OK(pthread_create(&kids[i], NULL, leaf, arg));
  for (int i = 0; i < 4; i++) TW_OK(pthread_join(kids[i], NULL));
  return arg;
}

int main(void) {
  pthread_t t[8];
  for (int i = 0; i < 8; i++) TW_OK(pthread_create(&t[i], NULL, branch, (void *)(long)i));
  for (int i = 0; i < 8; i++) {
    void *ret;
    TW_OK(pthread_join(t[i], &ret));
    TW_CHECK(ret == (void *)(long)i);
  }
  return 0;
}
