/* issue 12 item 9: EDEADLK. relock() locks an error-checking mutex that the same thread already
 * holds (taken in begin()): glibc returns EDEADLK instead of hanging, the program ignores it and
 * later unlocks once. A bug all the same (the second critical section is not protected as the
 * code believes): misuse self-relock, with where the mutex was first taken; exit 66. */
#include <pthread.h>
#include <stdio.h>

#include "tw_test.h"

static pthread_mutex_t m;

static TW_NOINLINE void begin(void) { TW_OK(pthread_mutex_lock(&m)); }
static TW_NOINLINE int relock(void) { return pthread_mutex_lock(&m); }

int main(void) {
  tw_test_errorcheck_init(&m);
  begin();
  int r = relock();
  TW_OK(pthread_mutex_unlock(&m));
  printf("relock: %s\n", r == EDEADLK ? "EDEADLK" : "?");
  return 0;
}
