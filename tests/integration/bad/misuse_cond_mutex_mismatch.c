/*
 * cond-mutex-mismatch: two threads block on the same condvar `work_cv` at the same time, each with
 * its own mutex: wait_with_inbox_lock with `inbox_lock`, then wait_with_outbox_lock with
 * `outbox_lock` (POSIX: undefined; glibc 2.36 does not notice). Main waits until both are inside
 * the wait, keeps them there for 500 ms (the detector needs both blocked for a while), then sets
 * each one's predicate under its own mutex and broadcasts; both leave and are joined.
 *
 * Ordering: each waiter sets its `*_waiting` under its mutex before it waits; main seeing it set
 * while holding that mutex means the waiter is inside the wait. The outbox waiter is created only
 * once the inbox waiter waits, so it is always the second one to wait.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t inbox_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t outbox_lock = PTHREAD_MUTEX_INITIALIZER;
static bool inbox_waiting, inbox_go;   /* under inbox_lock */
static bool outbox_waiting, outbox_go; /* under outbox_lock */

TW_NOINLINE void wait_with_inbox_lock(void) {
  TW_OK(pthread_mutex_lock(&inbox_lock));
  inbox_waiting = true;
  while (!inbox_go) TW_OK(pthread_cond_wait(&work_cv, &inbox_lock));
  TW_OK(pthread_mutex_unlock(&inbox_lock));
}

TW_NOINLINE void wait_with_outbox_lock(void) {
  TW_OK(pthread_mutex_lock(&outbox_lock));
  outbox_waiting = true;
  while (!outbox_go) TW_OK(pthread_cond_wait(&work_cv, &outbox_lock)); /* a second mutex */
  TW_OK(pthread_mutex_unlock(&outbox_lock));
}

static void *inbox_worker(void *arg) {
  (void)arg;
  wait_with_inbox_lock();
  return NULL;
}

static void *outbox_worker(void *arg) {
  (void)arg;
  wait_with_outbox_lock();
  return NULL;
}

static void wait_until_set(pthread_mutex_t *mu, bool *flag) {
  unsigned long spins = 0;
  for (;;) {
    TW_OK(pthread_mutex_lock(mu));
    bool set = *flag;
    TW_OK(pthread_mutex_unlock(mu));
    if (set) return;
    tw_test_pause(&spins, "waiter to wait", 0, 0);
  }
}

int main(void) {
  pthread_t a, b;
  TW_OK(pthread_create(&a, NULL, inbox_worker, NULL));
  wait_until_set(&inbox_lock, &inbox_waiting);
  TW_OK(pthread_create(&b, NULL, outbox_worker, NULL));
  wait_until_set(&outbox_lock, &outbox_waiting);
  tw_test_sleep_ms(500); /* both blocked on work_cv, with different mutexes */
  TW_OK(pthread_mutex_lock(&inbox_lock));
  inbox_go = true;
  TW_OK(pthread_mutex_unlock(&inbox_lock));
  TW_OK(pthread_mutex_lock(&outbox_lock));
  outbox_go = true;
  TW_OK(pthread_mutex_unlock(&outbox_lock));
  TW_OK(pthread_cond_broadcast(&work_cv));
  TW_OK(pthread_join(a, NULL));
  TW_OK(pthread_join(b, NULL));
  puts("both waiters left");
  return 0;
}
