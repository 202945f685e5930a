/* Each distinct cycle is reported once per process: the A/B inversion is repeated 20 times (each
 * time by two new threads, one after the other), then the C/D inversion 20 times. Two reports. */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_d = PTHREAD_MUTEX_INITIALIZER;

struct pair {
  pthread_mutex_t *first, *second;
};

static void *take_pair(void *arg) {
  struct pair *p = arg;
  TW_OK(pthread_mutex_lock(p->first));
  TW_OK(pthread_mutex_lock(p->second));
  TW_OK(pthread_mutex_unlock(p->second));
  TW_OK(pthread_mutex_unlock(p->first));
  return NULL;
}

static void run(pthread_mutex_t *x, pthread_mutex_t *y) {
  struct pair fwd = {x, y}, back = {y, x};
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, take_pair, &fwd));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, take_pair, &back));
  TW_OK(pthread_join(t, NULL));
}

TW_NOINLINE void invert_ab(void) { run(&lock_a, &lock_b); }
TW_NOINLINE void invert_cd(void) { run(&lock_c, &lock_d); }

int main(void) {
  for (int i = 0; i < 20; i++) invert_ab();
  for (int i = 0; i < 20; i++) invert_cd();
  return 0;
}
