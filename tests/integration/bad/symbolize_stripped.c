/* issue 12 item 12: a stripped program (no .symtab, no debug info; built with -s). Its frames have
 * no function name, and today print "?? (module)" with nothing to look the pc up with later. They
 * must print the module and the offset in it (module+0xOFFSET), which `addr2line -e` on the
 * unstripped build resolves offline; the JSON frames carry module_offset and the module's build-id.
 * The report itself is a lock-order inversion between take_ab() and take_ba(). */
// build: -s
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;

static TW_NOINLINE void *take_ab(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&lock_a));
  TW_OK(pthread_mutex_lock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_b));
  TW_OK(pthread_mutex_unlock(&lock_a));
  return NULL;
}

static TW_NOINLINE void *take_ba(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&lock_b));
  TW_OK(pthread_mutex_lock(&lock_a));
  TW_OK(pthread_mutex_unlock(&lock_a));
  TW_OK(pthread_mutex_unlock(&lock_b));
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
