/*
 * The twin of bad/misuse_cond_mutex_mismatch: two threads blocked on the same condvar at the same
 * time for 500 ms, both with the same mutex, then woken by a broadcast. (Same ordering as the bad
 * program: each waiter announces itself under the mutex before it waits.)
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t box_lock = PTHREAD_MUTEX_INITIALIZER;
static int waiting;  /* under box_lock */
static bool go;      /* under box_lock */

static void *waiter(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&box_lock));
  waiting++;
  while (!go) TW_OK(pthread_cond_wait(&work_cv, &box_lock));
  TW_OK(pthread_mutex_unlock(&box_lock));
  return NULL;
}

int main(void) {
  pthread_t a, b;
  unsigned long spins = 0;
  TW_OK(pthread_create(&a, NULL, waiter, NULL));
  TW_OK(pthread_create(&b, NULL, waiter, NULL));
  for (;;) {
    TW_OK(pthread_mutex_lock(&box_lock));
    int w = waiting;
    TW_OK(pthread_mutex_unlock(&box_lock));
    if (w == 2) break;
    tw_test_pause(&spins, "waiters to wait", w, 2);
  }
  tw_test_sleep_ms(500); /* both blocked on work_cv, with the same mutex */
  TW_OK(pthread_mutex_lock(&box_lock));
  go = true;
  TW_OK(pthread_cond_broadcast(&work_cv));
  TW_OK(pthread_mutex_unlock(&box_lock));
  TW_OK(pthread_join(a, NULL));
  TW_OK(pthread_join(b, NULL));
  return 0;
}
