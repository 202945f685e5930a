/* issue 12 item 7: cond-mutex-mismatch when the two waits overlap only briefly. wait_inbox() waits
 * on work_cv with inbox_lock; once it is inside the wait, wait_outbox() waits on the same condvar
 * with outbox_lock; as soon as that second wait has begun, main releases both (predicates set,
 * broadcast). The overlap is a few milliseconds (argv[1], if given, adds that many ms of overlap:
 * 20 reproduces the "about one run in five" of the issue on the baseline). The misuse exists the
 * moment the second wait begins: it must be reported every time, not only when both waiters
 * happen to be blocked at one 100 ms scan.
 *
 * Ordering: each waiter sets its `*_waiting` flag under its mutex before it waits; main seeing it
 * while holding that mutex means the waiter is inside pthread_cond_wait (which released it). */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "tw_test.h"

static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t inbox_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t outbox_lock = PTHREAD_MUTEX_INITIALIZER;
static bool inbox_waiting, inbox_go;   /* under inbox_lock */
static bool outbox_waiting, outbox_go; /* under outbox_lock */

static TW_NOINLINE void *wait_inbox(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&inbox_lock));
  inbox_waiting = true;
  while (!inbox_go) TW_OK(pthread_cond_wait(&work_cv, &inbox_lock));
  TW_OK(pthread_mutex_unlock(&inbox_lock));
  return NULL;
}

static TW_NOINLINE void *wait_outbox(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&outbox_lock));
  outbox_waiting = true;
  while (!outbox_go) TW_OK(pthread_cond_wait(&work_cv, &outbox_lock)); /* another mutex */
  TW_OK(pthread_mutex_unlock(&outbox_lock));
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

int main(int argc, char **argv) {
  long overlap_ms = argc > 1 ? atol(argv[1]) : 0;
  pthread_t a, b;
  TW_OK(pthread_create(&a, NULL, wait_inbox, NULL));
  wait_until_set(&inbox_lock, &inbox_waiting);
  TW_OK(pthread_create(&b, NULL, wait_outbox, NULL));
  wait_until_set(&outbox_lock, &outbox_waiting); /* both inside a wait on work_cv now */
  if (overlap_ms > 0) tw_test_sleep_ms(overlap_ms); /* the duration the issue measured */
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
