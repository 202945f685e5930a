/*
 * A C11 mutex inversion that hangs: transfer takes `accounts` then `ledger`, audit the other way
 * round; a barrier makes both hold their first mutex before trying the second. The order is
 * reported as a lock-order cycle, the hang as a deadlock wait-cycle of two mtx_lock waits. main
 * joins them with thrd_join: every thread is stuck, but the cycle is what is reported.
 */
#include <pthread.h>
#include <threads.h>

#include "tw_test.h"

static mtx_t accounts, ledger;
static pthread_barrier_t both_hold;

static TW_NOINLINE void take_two(mtx_t *first, mtx_t *second) {
  mtx_lock(first);
  pthread_barrier_wait(&both_hold);
  mtx_lock(second); /* held by the other thread, which waits for ours */
  mtx_unlock(second);
  mtx_unlock(first);
}

static int transfer(void *arg) {
  (void)arg;
  take_two(&accounts, &ledger);
  return 0;
}

static int audit(void *arg) {
  (void)arg;
  take_two(&ledger, &accounts);
  return 0;
}

int main(void) {
  thrd_t a, b;
  TW_CHECK(mtx_init(&accounts, mtx_plain) == thrd_success);
  TW_CHECK(mtx_init(&ledger, mtx_plain) == thrd_success);
  TW_OK(pthread_barrier_init(&both_hold, NULL, 2));
  TW_CHECK(thrd_create(&a, transfer, NULL) == thrd_success);
  TW_CHECK(thrd_create(&b, audit, NULL) == thrd_success);
  thrd_join(a, NULL);
  thrd_join(b, NULL);
  return 0;
}
