/* pthread_spin_destroy of a held spinlock (POSIX: undefined), then a use after the destroy. */
#include <pthread.h>

#include "tw_test.h"

static pthread_spinlock_t s;

static TW_NOINLINE void take(void) { pthread_spin_lock(&s); }
static TW_NOINLINE void teardown(void) { TW_OK(pthread_spin_destroy(&s)); }
static TW_NOINLINE void late_use(void) { pthread_spin_trylock(&s); }

int main(void) {
  TW_OK(pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE));
  take();
  teardown();
  late_use();
  return 0;
}
