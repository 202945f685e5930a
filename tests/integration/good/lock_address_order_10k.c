/* 10,000 mutexes, always locked in address order, in nested pairs and triples: neighbours (i, i+1),
 * (i, i+1, i+2), and 20,000 pseudo-random pairs and triples sorted by address. Two threads do
 * it, from opposite ends of the array. Tens of thousands of order edges, no cycle: no report. */
#include <pthread.h>

#include "tw_test.h"

#define LOCKS 10000
#define RANDOM_SETS 20000

static pthread_mutex_t locks[LOCKS];

static void lock_sorted(int *idx, int n) {
  for (int i = 1; i < n; i++) /* insertion sort: address order is index order in one array */
    for (int j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
      int t = idx[j];
      idx[j] = idx[j - 1];
      idx[j - 1] = t;
    }
  for (int i = 0; i < n; i++) {
    if (i > 0 && idx[i] == idx[i - 1]) continue;
    TW_OK(pthread_mutex_lock(&locks[idx[i]]));
  }
  for (int i = n - 1; i >= 0; i--) {
    if (i > 0 && idx[i] == idx[i - 1]) continue;
    TW_OK(pthread_mutex_unlock(&locks[idx[i]]));
  }
}

static void *worker(void *arg) {
  int reverse = (int)(long)arg;
  unsigned seed = reverse ? 12345u : 777u;
  for (int k = 0; k + 2 < LOCKS; k++) {
    int i = reverse ? LOCKS - 3 - k : k;
    int pair[2] = {i, i + 1}, triple[3] = {i, i + 1, i + 2};
    lock_sorted(pair, 2);
    lock_sorted(triple, 3);
  }
  for (int k = 0; k < RANDOM_SETS; k++) {
    int idx[3];
    for (int j = 0; j < 3; j++) idx[j] = (int)((seed = seed * 1103515245u + 12345u) >> 8) % LOCKS;
    lock_sorted(idx, 2 + (k & 1));
  }
  return NULL;
}

int main(void) {
  for (int i = 0; i < LOCKS; i++) TW_OK(pthread_mutex_init(&locks[i], NULL));
  pthread_t t1, t2;
  TW_OK(pthread_create(&t1, NULL, worker, (void *)0L));
  TW_OK(pthread_create(&t2, NULL, worker, (void *)1L));
  TW_OK(pthread_join(t1, NULL));
  TW_OK(pthread_join(t2, NULL));
  for (int i = 0; i < LOCKS; i++) TW_OK(pthread_mutex_destroy(&locks[i]));
  return 0;
}
