/*
 * One condvar used with two different mutexes, but never at the same time: POSIX binds a condvar
 * to a mutex only while a wait is in progress, so this is correct. A worker waits on `work_cv`
 * with `inbox_lock` until main sets `inbox_go` and signals; only after that worker was joined does
 * a second worker wait on the same condvar with `outbox_lock`, for 300 ms each time.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t inbox_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t outbox_lock = PTHREAD_MUTEX_INITIALIZER;

struct box {
  pthread_mutex_t *mu;
  bool waiting, go; /* under *mu */
};

static void *waiter(void *arg) {
  struct box *b = arg;
  TW_OK(pthread_mutex_lock(b->mu));
  b->waiting = true;
  while (!b->go) TW_OK(pthread_cond_wait(&work_cv, b->mu));
  TW_OK(pthread_mutex_unlock(b->mu));
  return NULL;
}

static void run_one(struct box *b) {
  pthread_t t;
  unsigned long spins = 0;
  TW_OK(pthread_create(&t, NULL, waiter, b));
  for (;;) {
    TW_OK(pthread_mutex_lock(b->mu));
    bool w = b->waiting;
    TW_OK(pthread_mutex_unlock(b->mu));
    if (w) break;
    tw_test_pause(&spins, "waiter to wait", 0, 0);
  }
  tw_test_sleep_ms(300);
  TW_OK(pthread_mutex_lock(b->mu));
  b->go = true;
  TW_OK(pthread_cond_signal(&work_cv));
  TW_OK(pthread_mutex_unlock(b->mu));
  TW_OK(pthread_join(t, NULL));
}

int main(void) {
  struct box inbox = {&inbox_lock, false, false}, outbox = {&outbox_lock, false, false};
  run_one(&inbox);
  run_one(&outbox);
  return 0;
}
