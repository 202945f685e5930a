/*
 * An order inversion between a mutex and a spinlock, in one thread (no hang in this run):
 * update_index takes index_mu then cache_spin, evict takes cache_spin then index_mu.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t index_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_spinlock_t cache_spin;

static TW_NOINLINE void update_index(void) {
  pthread_mutex_lock(&index_mu);
  pthread_spin_lock(&cache_spin);
  pthread_spin_unlock(&cache_spin);
  pthread_mutex_unlock(&index_mu);
}

static TW_NOINLINE void evict(void) {
  pthread_spin_lock(&cache_spin);
  pthread_mutex_lock(&index_mu);
  pthread_mutex_unlock(&index_mu);
  pthread_spin_unlock(&cache_spin);
}

int main(void) {
  TW_OK(pthread_spin_init(&cache_spin, PTHREAD_PROCESS_PRIVATE));
  update_index();
  evict();
  TW_OK(pthread_spin_destroy(&cache_spin));
  return 0;
}
