/* issue 12 item 2, the other ways memory that holds locks goes away: a realloc that moves an array
 * of zeroed mutexes (the old block is freed and its addresses reused by a new array), and munmap of
 * a mapping holding mutexes followed by a new mapping at the same address (MAP_FIXED_NOREPLACE
 * would refuse if anything were still there). Each time the old locks were taken low then high and
 * the new ones high then low. No report, exit 0 (today two false lock-order-cycles). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tw_test.h"

static TW_NOINLINE void lock_pair(pthread_mutex_t *first, pthread_mutex_t *second) {
  TW_OK(pthread_mutex_lock(first));
  TW_OK(pthread_mutex_lock(second));
  TW_OK(pthread_mutex_unlock(second));
  TW_OK(pthread_mutex_unlock(first));
}

/* Two zeroed mutexes from malloc (calloc does not take blocks from glibc's per-thread cache). */
static pthread_mutex_t *two_locks(void) {
  pthread_mutex_t *m = malloc(2 * sizeof(*m));
  TW_CHECK(m != NULL);
  memset(m, 0, 2 * sizeof(*m));
  return m;
}

static void via_realloc(void) {
  pthread_mutex_t *locks = two_locks();
  lock_pair(&locks[0], &locks[1]);
  void *old = locks;
  /* Grown past the mmap threshold (128 KiB), the array moves and its old block is freed ... */
  pthread_mutex_t *grown = realloc(locks, 4096 * sizeof(*grown));
  TW_CHECK(grown != NULL && (void *)grown != old);
  /* ... and comes back to the next request of its size (no pthread call in between). */
  pthread_mutex_t *again = two_locks();
  TW_CHECK((void *)again == old);
  lock_pair(&again[1], &again[0]);
  free(again);
  free(grown);
}

static void via_munmap(void) {
  size_t len = 4096;
  pthread_mutex_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  TW_CHECK(m != MAP_FAILED);
  lock_pair(&m[0], &m[1]);
  void *at = m;
  TW_CHECK(munmap(m, len) == 0);
  pthread_mutex_t *n = mmap(at, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  TW_CHECK(n == at); /* zero-filled again: two fresh default mutexes */
  lock_pair(&n[1], &n[0]);
  TW_CHECK(munmap(n, len) == 0);
}

int main(void) {
  via_realloc();
  via_munmap();
  printf("done\n");
  return 0;
}
