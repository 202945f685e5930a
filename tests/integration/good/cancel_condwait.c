/*
 * A thread cancelled inside pthread_cond_wait: it re-acquires the mutex, its cleanup handler
 * unlocks it, and it is joined. The mutex is usable afterwards. Nothing to report (hazard 4).
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool waiting, go;
static int cleanups;

static void unlock_on_cancel(void *m) {
  cleanups++;
  pthread_mutex_unlock(m);
}

static void *waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  pthread_cleanup_push(unlock_on_cancel, &mu);
  waiting = true;
  while (!go) pthread_cond_wait(&cv, &mu);
  pthread_cleanup_pop(1);
  return NULL;
}

int main(void) {
  pthread_t t;
  void *ret;
  unsigned long spins = 0;
  TW_OK(pthread_create(&t, NULL, waiter, NULL));
  for (;;) {
    pthread_mutex_lock(&mu);
    bool w = waiting; /* with mu held: the waiter is inside pthread_cond_wait */
    pthread_mutex_unlock(&mu);
    if (w) break;
    tw_test_pause(&spins, "waiter to wait", 0, 0);
  }
  TW_OK(pthread_cancel(t));
  TW_OK(pthread_join(t, &ret));
  TW_CHECK(ret == PTHREAD_CANCELED);
  TW_CHECK(cleanups == 1);
  /* The cleanup handler released mu: it can be taken, waited on and released again. */
  TW_OK(pthread_mutex_lock(&mu));
  go = true;
  TW_OK(pthread_cond_broadcast(&cv));
  TW_OK(pthread_mutex_unlock(&mu));
  return 0;
}
