/* pthread_spin_unlock of a spinlock nobody holds (POSIX: undefined). */
#include <pthread.h>

#include "tw_test.h"

static pthread_spinlock_t s;

static TW_NOINLINE void release_twice(void) {
  pthread_spin_lock(&s);
  pthread_spin_unlock(&s);
  pthread_spin_unlock(&s); /* not held any more */
}

int main(void) {
  TW_OK(pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE));
  release_twice();
  TW_OK(pthread_spin_destroy(&s));
  return 0;
}
