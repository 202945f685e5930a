/* issue 12 item 5: a report flood. One thread takes 45 locks, all at the same call site, in
 * rotating order (round i takes locks i, i+1, ..., i+44 mod 45, then releases them): every pair
 * of locks is taken in both orders, 990 pairs, each a lock-order cycle through the same two
 * acquisition sites. (ThreadSanitizer's deadlock_detector_stress_test has such a subtest.) Today
 * that is 990 lock-order-cycle reports; it must be one group: "and 989 more cycles through the same
 * call sites, over 45 locks". */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"

#define NLOCKS 45

static pthread_mutex_t locks[NLOCKS];

static TW_NOINLINE void take(int i) { TW_OK(pthread_mutex_lock(&locks[i])); }
static TW_NOINLINE void drop(int i) { TW_OK(pthread_mutex_unlock(&locks[i])); }

int main(void) {
  for (int i = 0; i < NLOCKS; i++) TW_OK(pthread_mutex_init(&locks[i], NULL));
  for (int round = 0; round < NLOCKS; round++) {
    for (int j = 0; j < NLOCKS; j++) take((round + j) % NLOCKS);
    for (int j = 0; j < NLOCKS; j++) drop((round + j) % NLOCKS);
  }
  printf("%d rounds\n", NLOCKS);
  return 0;
}
