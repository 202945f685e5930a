/*
 * Two threads that hand a turn back and forth through raw futex words (a hand-rolled event, as
 * std::atomic::wait, std::latch and std::counting_semaphore do it in libstdc++), until one of them
 * forgets to wake the other: each then waits on the word only the other has ever woken. A deadlock
 * wait-cycle of two futex waits. main stays in pause().
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static _Atomic int word_a, word_b; /* word_a: woken only by ping, word_b: only by pong */

static TW_NOINLINE void wait_word(_Atomic int *w, int seen) {
  while (atomic_load(w) == seen)
    syscall(SYS_futex, w, (long)FUTEX_WAIT_PRIVATE, (long)seen, NULL, NULL, 0L);
}

static TW_NOINLINE void wake_word(_Atomic int *w) {
  atomic_fetch_add(w, 1);
  syscall(SYS_futex, w, (long)FUTEX_WAKE_PRIVATE, 1L, NULL, NULL, 0L);
}

static void *ping(void *arg) {
  (void)arg;
  wake_word(&word_b);   /* your turn */
  wait_word(&word_a, 0); /* pong's answer */
  wait_word(&word_a, 1); /* a second answer that never comes */
  return NULL;
}

static void *pong(void *arg) {
  (void)arg;
  wait_word(&word_b, 0); /* ping's turn */
  wake_word(&word_a);    /* answer */
  wait_word(&word_b, 1); /* a second turn ping never gives */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, ping, NULL));
  TW_OK(pthread_create(&t, NULL, pong, NULL));
  tw_test_idle_forever();
}
