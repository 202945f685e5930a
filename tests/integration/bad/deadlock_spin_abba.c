/*
 * A spinlock ABBA: spin_ab takes lock_a then lock_b, spin_ba takes lock_b then lock_a. A barrier
 * makes both hold their first lock before either tries its second, so both spin forever. The
 * order inversion is reported as a lock-order cycle the moment the second acquisition is tried,
 * and the hang as a deadlock wait-cycle (while both burn their CPU). main stays in pause().
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_spinlock_t lock_a, lock_b;
static pthread_barrier_t both_hold;

static TW_NOINLINE void take_two(pthread_spinlock_t *first, pthread_spinlock_t *second) {
  pthread_spin_lock(first);
  pthread_barrier_wait(&both_hold);
  pthread_spin_lock(second); /* held by the other thread, which spins too */
  pthread_spin_unlock(second);
  pthread_spin_unlock(first);
}

static void *spin_ab(void *arg) {
  (void)arg;
  take_two(&lock_a, &lock_b);
  return NULL;
}

static void *spin_ba(void *arg) {
  (void)arg;
  take_two(&lock_b, &lock_a);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_spin_init(&lock_a, PTHREAD_PROCESS_PRIVATE));
  TW_OK(pthread_spin_init(&lock_b, PTHREAD_PROCESS_PRIVATE));
  TW_OK(pthread_barrier_init(&both_hold, NULL, 2));
  TW_OK(pthread_create(&t, NULL, spin_ab, NULL));
  TW_OK(pthread_create(&t, NULL, spin_ba, NULL));
  tw_test_idle_forever();
}
