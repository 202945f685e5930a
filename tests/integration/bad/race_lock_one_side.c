/* A counter incremented under a mutex by one thread and without it by another: the locked side
 * holds the mutex, the other holds nothing, so they share no lock, and nothing orders them (the
 * second waits for the first's task to go, which is no synchronisation). A race-suspect listing
 * the mutex the first thread held and none for the second. */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"

static volatile long counter; /* watched */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static pid_t main_tid, first_tid;
static volatile int main_joining;

/* The two threads access the counter one at a time, while main waits in pthread_join touching
 * nothing: page emulation (docs/race.md) opens the watched page while a thread steps an access to
 * it, and an access by another thread in that moment is not seen (main joins through a pointer: a
 * call through the PLT reads the GOT, which shares the page; the second thread's polling does too,
 * so the first spreads its accesses out). Each waits for its turn by watching the kernel, never
 * through a pthread call: nothing orders the two threads for threadwatch. */
static void wait_turn(pid_t before) {
  unsigned long spins = 0;
  while (!main_joining) tw_test_pause(&spins, "main to join", 0, 0);
  tw_test_wait_in_syscall(main_tid, SYS_futex);
  if (before) tw_test_wait_gone(before);
}

TW_NOINLINE static void inc_locked(void) {
  pthread_mutex_lock(&lock);
  counter++;
  pthread_mutex_unlock(&lock);
}

TW_NOINLINE static void inc_unlocked(void) { counter++; }

static void *locked_side(void *arg) {
  *(volatile pid_t *)arg = tw_test_gettid();
  wait_turn(0);
  for (int i = 0; i < 20; i++) {
    inc_locked();
    tw_test_sleep_ms(1);
  }
  return NULL;
}

static void *unlocked_side(void *arg) {
  (void)arg;
  wait_turn(first_tid); /* after the first thread is gone */
  for (int i = 0; i < 20; i++) inc_unlocked();
  return NULL;
}

int main(void) {
  pthread_t a, b;
  main_tid = tw_test_gettid();
  int (*volatile join)(pthread_t, void **) = pthread_join; /* see wait_turn */
  volatile pid_t tid = 0;
  TW_OK(pthread_create(&a, NULL, locked_side, (void *)&tid));
  unsigned long spins = 0;
  while (tid == 0) tw_test_pause(&spins, "T2 to start", 0, 0);
  first_tid = tid;
  TW_OK(pthread_create(&b, NULL, unlocked_side, NULL));
  main_joining = 1;
  TW_OK(join(b, NULL));
  TW_OK(join(a, NULL));
  printf("counter = %ld\n", counter);
  return 0;
}
