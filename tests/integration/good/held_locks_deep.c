/* Issue 11 item 17: one thread holds 20,000 mutexes at once (taken in address order, released in
 * reverse, then once more in the same order, and once released oldest-first). Bare: a few ms.
 * Every acquisition sent one lock-order edge per lock already held (N^2/2 edges), and the reporter
 * found each edge by scanning an adjacency list (N^3 overall): 1,000 locks took 0.2-0.6 s, 2,000
 * 1.6-4 s, 4,000 15-54 s, so 20,000 never finish within the test's 30 s timeout (a bound some
 * hundred times above the linear cost, not a timing threshold). A consistent order: no report. */
#include "tw_test.h"

#define N 20000

int main(void) {
  pthread_mutex_t *m = calloc(N, sizeof(*m));
  TW_CHECK(m != NULL);
  for (int i = 0; i < N; i++) TW_OK(pthread_mutex_init(&m[i], NULL));
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < N; i++) TW_OK(pthread_mutex_lock(&m[i]));
    for (int i = 0; i < N; i++) TW_OK(pthread_mutex_unlock(&m[round == 2 ? i : N - 1 - i]));
  }
  for (int i = 0; i < N; i++) TW_OK(pthread_mutex_destroy(&m[i]));
  free(m);
  return 0;
}
