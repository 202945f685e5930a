/* lock_inversion: a bank transfer that locks the source account first, then the destination.
 *
 * transfer(a, b) and transfer(b, a) take the same two locks in opposite orders. In this run the two
 * transfers happen one after the other, so nothing hangs; under load they would run at the same
 * time and deadlock. threadwatch reports the lock-order cycle the moment the second order is seen:
 *
 *   threadwatch: lock-order-cycle: potential deadlock: T3 takes M1 then M2 at transfer
 *   (lock_inversion.c:NN); T2 takes M2 then M1 at transfer (lock_inversion.c:NN) ...
 *
 * with both stacks of both acquisitions and a hint. The fix: lock the two accounts in one global
 * order (for example by address, or by account number). */
#include <pthread.h>
#include <stdio.h>

struct account {
  pthread_mutex_t lock;
  long balance;
};

static struct account alice = {PTHREAD_MUTEX_INITIALIZER, 100};
static struct account bob = {PTHREAD_MUTEX_INITIALIZER, 100};

__attribute__((noinline)) static void transfer(struct account *from, struct account *to, long n) {
  pthread_mutex_lock(&from->lock);
  pthread_mutex_lock(&to->lock); /* the second lock, taken while holding the first */
  from->balance -= n;
  to->balance += n;
  pthread_mutex_unlock(&to->lock);
  pthread_mutex_unlock(&from->lock);
}

static void *pay_bob(void *arg) {
  (void)arg;
  transfer(&alice, &bob, 10);
  return NULL;
}

static void *pay_alice(void *arg) {
  (void)arg;
  transfer(&bob, &alice, 5);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, pay_bob, NULL);
  pthread_join(t, NULL);
  pthread_create(&t, NULL, pay_alice, NULL);
  pthread_join(t, NULL);
  printf("alice %ld, bob %ld\n", alice.balance, bob.balance);
  return 0;
}
