/* issue 12 item 1, without any library: what GLib does, in plain pthreads. Each thread sets a
 * thread-specific value whose destructor calls pthread_detach(pthread_self()): the thread detaches
 * itself while it exits (after threadwatch's own TSD destructor, whose key was made first). The
 * program waits until the threads are gone; they were all detached. No report, exit 0. */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"

#define NTHREADS 3

static pthread_key_t key;
static volatile pid_t tids[NTHREADS];

static void self_detach(void *value) {
  (void)value;
  TW_OK(pthread_detach(pthread_self()));
}

static TW_NOINLINE void *worker(void *arg) {
  TW_OK(pthread_setspecific(key, arg));
  tids[(long)arg - 1] = tw_test_gettid();
  return NULL;
}

int main(void) {
  TW_OK(pthread_key_create(&key, self_detach));
  for (long i = 1; i <= NTHREADS; i++) {
    pthread_t t;
    TW_OK(pthread_create(&t, NULL, worker, (void *)i));
  }
  for (int i = 0; i < NTHREADS; i++) {
    unsigned long spins = 0;
    while (tids[i] == 0) tw_test_pause(&spins, "worker to start", i, 0);
    tw_test_wait_gone(tids[i]);
  }
  printf("all %d detached themselves\n", NTHREADS);
  return 0;
}
