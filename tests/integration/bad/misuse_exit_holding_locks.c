/*
 * exit-holding-locks, default mutex: a worker takes `config_lock` (load_config_and_forget) and
 * returns from its thread function without unlocking it. Main joins it and never touches the
 * mutex again (a default mutex whose owner is gone would block any later lock forever).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static int config;

TW_NOINLINE void *load_config_and_forget(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&config_lock));
  config = 42;
  return NULL; /* still holding config_lock */
}

TW_NOINLINE void start_loader(pthread_t *t) {
  TW_OK(pthread_create(t, NULL, load_config_and_forget, NULL));
}

int main(void) {
  pthread_t t;
  start_loader(&t);
  TW_OK(pthread_join(t, NULL));
  printf("config %d\n", config);
  return 0;
}
