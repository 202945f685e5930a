/*
 * A real ABBA deadlock: take_ab holds A and wants B, take_ba holds B and wants A. A barrier makes
 * both hold their first lock before either takes its second, so the run always hangs.
 *
 * No argument: main joins both threads (blocked in pthread_join for good). Argument "idle": main
 * stays in pause(), a call threadwatch does not watch, so only the two threads are blocked.
 * Argument "handler" (with or without "idle"): a SIGUSR1 handler is installed first; a signal
 * handler cannot unlock a mutex, so the deadlock is the same.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_first;

static void *take_ab(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&lock_a));
  pthread_barrier_wait(&both_hold_first);
  TW_OK(pthread_mutex_lock(&lock_b)); /* held by take_ba: blocks forever */
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_a));
  return NULL;
}

static void *take_ba(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&lock_b));
  pthread_barrier_wait(&both_hold_first);
  TW_OK(pthread_mutex_lock(&lock_a)); /* held by take_ab: blocks forever */
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&lock_b));
  return NULL;
}

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char **argv) {
  pthread_t t1, t2;
  int idle = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "idle") == 0) idle = 1;
    if (strcmp(argv[i], "handler") == 0) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = on_usr1;
      sigemptyset(&sa.sa_mask);
      TW_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    }
  }
  TW_OK(pthread_barrier_init(&both_hold_first, NULL, 2));
  TW_OK(pthread_create(&t1, NULL, take_ab, NULL));
  TW_OK(pthread_create(&t2, NULL, take_ba, NULL));
  if (idle) tw_test_idle_forever();
  TW_OK(pthread_join(t1, NULL));
  TW_OK(pthread_join(t2, NULL));
  return 0;
}
