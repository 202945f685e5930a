/* Two different bugs for the fingerprint and suppression tests: a lock-order inversion (two locks
 * taken in both orders, one after the other: no hang) and a thread that exits unjoined. argv[1]:
 * "abba", "leak" or "both" (default). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "tw_test.h" /* tests/integration: wait for a thread to be gone, never sleep */

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void take_a_then_b(void) {
  pthread_mutex_lock(&a);
  pthread_mutex_lock(&b);
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
}

__attribute__((noinline)) static void take_b_then_a(void) {
  pthread_mutex_lock(&b);
  pthread_mutex_lock(&a);
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&b);
}

static void *order_ab(void *arg) {
  take_a_then_b();
  return arg;
}
static void *order_ba(void *arg) {
  take_b_then_a();
  return arg;
}
static _Atomic pid_t short_tid;
static void *short_lived(void *arg) {
  atomic_store(&short_tid, tw_test_gettid());
  return arg;
}

__attribute__((noinline)) static void inversion(void) {
  pthread_t t;
  pthread_create(&t, NULL, order_ab, NULL);
  pthread_join(t, NULL);
  pthread_create(&t, NULL, order_ba, NULL);
  pthread_join(t, NULL);
}

__attribute__((noinline)) static void forget_a_thread(void) {
  pthread_t t;
  pthread_create(&t, NULL, short_lived, NULL); /* never joined */
  pid_t tid;
  unsigned long spins = 0;
  while ((tid = atomic_load(&short_tid)) == 0) tw_test_pause(&spins, "thread start", 0, 0);
  tw_test_wait_gone(tid); /* it has exited: the report says "exited", every time */
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "both";
  if (!strcmp(what, "abba") || !strcmp(what, "both")) inversion();
  if (!strcmp(what, "leak") || !strcmp(what, "both")) forget_a_thread();
  return 0;
}
