/*
 * Self-relock: a thread locks a default mutex it already holds and blocks forever. take_first
 * locks it, take_again locks it again. No argument: main does it, single-threaded. Argument
 * "thread": a worker does it while main stays in pause() (a call threadwatch does not watch).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;

TW_NOINLINE void take_first(void) { TW_OK(pthread_mutex_lock(&config_lock)); }

TW_NOINLINE void take_again(void) {
  TW_OK(pthread_mutex_lock(&config_lock)); /* already held by this thread: never returns */
}

static void *relock_twice(void *arg) {
  (void)arg;
  take_first();
  take_again();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "thread") == 0) {
    pthread_t t;
    TW_OK(pthread_create(&t, NULL, relock_twice, NULL));
    tw_test_idle_forever();
  }
  relock_twice(NULL);
  return 0;
}
