/* 5000 short-lived threads created and joined in batches of 50: below the surge limit, no leak. */
#include <pthread.h>

#include "tw_test.h"

static void *work(void *arg) { return arg; }

int main(void) {
  for (int batch = 0; batch < 100; batch++) {
    pthread_t t[50];
    for (int i = 0; i < 50; i++) TW_OK(pthread_create(&t[i], NULL, work, NULL));
    for (int i = 0; i < 50; i++) TW_OK(pthread_join(t[i], NULL));
  }
  return 0;
}
