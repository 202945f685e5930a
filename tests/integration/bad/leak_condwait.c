/* A thread blocked in pthread_cond_wait at exit, never joined: thread-leak, what blocked. */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool waiting, go;

static void *waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  waiting = true;
  while (!go) pthread_cond_wait(&cv, &mu); /* nobody ever sets go */
  pthread_mutex_unlock(&mu);
  return NULL;
}

TW_NOINLINE void start_waiter(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, waiter, NULL));
}

int main(void) {
  unsigned long spins = 0;
  start_waiter();
  for (;;) {
    /* Holding mu with waiting set means the waiter is inside pthread_cond_wait (it released mu). */
    pthread_mutex_lock(&mu);
    bool w = waiting;
    pthread_mutex_unlock(&mu);
    if (w) break;
    tw_test_pause(&spins, "waiter to wait", 0, 0);
  }
  return 0;
}
