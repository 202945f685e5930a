/* ABBA within one thread: forward() takes A then B; later backward() takes B then A. A single
 * thread cannot deadlock with itself here, but any two threads running these paths can. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int shared;

TW_NOINLINE void forward(void) {
  TW_OK(pthread_mutex_lock(&lock_a));
  TW_OK(pthread_mutex_lock(&lock_b));
  shared++;
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_a));
}

TW_NOINLINE void backward(void) {
  TW_OK(pthread_mutex_lock(&lock_b));
  TW_OK(pthread_mutex_lock(&lock_a));
  shared++;
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&lock_b));
}

int main(void) {
  forward();
  backward();
  TW_CHECK(shared == 2);
  return 0;
}
