/* Two kinds of objects, each with a mutex initialised in its own constructor function: account_init
 * and ledger_init. Pair 1 (acc1, led1) is always taken account -> ledger; pair 2 (acc2, led2) ledger
 * -> account. No two objects form a cycle, so the plain lock-order check is silent; with
 * THREADWATCH_LOCK_CLASSES=1 the classes "account" and "ledger" are taken in both orders. */
#include <pthread.h>

#include "tw_test.h"

struct account {
  pthread_mutex_t mu;
  long balance;
};
struct ledger {
  pthread_mutex_t mu;
  long entries;
};

static struct account acc1, acc2;
static struct ledger led1, led2;

TW_NOINLINE void account_init(struct account *a) {
  TW_OK(pthread_mutex_init(&a->mu, NULL));
  a->balance = 0;
}

TW_NOINLINE void ledger_init(struct ledger *l) {
  TW_OK(pthread_mutex_init(&l->mu, NULL));
  l->entries = 0;
}

static void *post_deposit(void *arg) { /* account -> ledger, pair 1 */
  (void)arg;
  TW_OK(pthread_mutex_lock(&acc1.mu));
  TW_OK(pthread_mutex_lock(&led1.mu));
  acc1.balance += 10;
  led1.entries++;
  TW_OK(pthread_mutex_unlock(&led1.mu));
  TW_OK(pthread_mutex_unlock(&acc1.mu));
  return NULL;
}

static void *audit(void *arg) { /* ledger -> account, pair 2 */
  (void)arg;
  TW_OK(pthread_mutex_lock(&led2.mu));
  TW_OK(pthread_mutex_lock(&acc2.mu));
  led2.entries += acc2.balance == 0;
  TW_OK(pthread_mutex_unlock(&acc2.mu));
  TW_OK(pthread_mutex_unlock(&led2.mu));
  return NULL;
}

int main(void) {
  account_init(&acc1);
  account_init(&acc2);
  ledger_init(&led1);
  ledger_init(&led2);
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, post_deposit, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, audit, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
