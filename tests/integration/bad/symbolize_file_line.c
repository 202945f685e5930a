/* issue 12 item 11: every frame of the program that has debug info shows file:line, whichever
 * compiler built it. clang emits no .debug_aranges, and with elfutils 0.188 libdw's address-to-CU
 * lookup (dwfl_module_addrdie, dwfl_module_getsrc) then fails for every pc of the program: frames
 * show only "function (module)" (addr2line resolves the same pcs). Run the suite with CC=clang to
 * exercise it. A lock-order inversion between take_ab() and take_ba(), whose frames, and the inline
 * frame of lock_both() inlined into them, must show symbolize_file_line.c:LINE. */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static inline __attribute__((always_inline)) void lock_both(pthread_mutex_t *x, pthread_mutex_t *y) {
  TW_OK(pthread_mutex_lock(x));
  TW_OK(pthread_mutex_lock(y));
  TW_OK(pthread_mutex_unlock(y));
  TW_OK(pthread_mutex_unlock(x));
}

static TW_NOINLINE void *take_ab(void *arg) {
  (void)arg;
  lock_both(&lock_a, &lock_b);
  return NULL;
}

static TW_NOINLINE void *take_ba(void *arg) {
  (void)arg;
  lock_both(&lock_b, &lock_a);
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, take_ab, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_OK(pthread_create(&t, NULL, take_ba, NULL));
  TW_OK(pthread_join(t, NULL));
  printf("done\n");
  return 0;
}
