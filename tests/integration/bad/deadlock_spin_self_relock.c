/*
 * A spinlock taken again by its holder spins forever. threadwatch reports it before the second
 * lock starts spinning, with where the lock was taken first.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_spinlock_t stats_lock;
static long hits;

static TW_NOINLINE void count_hit(void) {
  pthread_spin_lock(&stats_lock); /* the caller holds it already */
  hits++;
  pthread_spin_unlock(&stats_lock);
}

static TW_NOINLINE void record(void) {
  pthread_spin_lock(&stats_lock);
  count_hit();
  pthread_spin_unlock(&stats_lock);
}

int main(void) {
  TW_OK(pthread_spin_init(&stats_lock, PTHREAD_PROCESS_PRIVATE));
  record();
  return 0;
}
