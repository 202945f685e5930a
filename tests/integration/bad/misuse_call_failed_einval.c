/* issue 12 item 9: pthread calls that fail with EINVAL are bugs even though nothing hangs.
 * argv[1] picks one:
 *   timespec  wait_until() calls pthread_cond_timedwait with a deadline whose tv_nsec is 1e9
 *             (a "+1 s" computed without carrying into tv_sec): EINVAL at once, every time;
 *   rwlock    a worker gives the same bad deadline to pthread_rwlock_timedrdlock while main
 *             holds the rwlock for writing (glibc checks the deadline only when it must wait);
 *   uninit    lock_stale() locks a mutex whose bytes are stale garbage (never initialised): EINVAL.
 * The program notices nothing (it ignores the result, as such programs do) and exits 0. Each must
 * be a `misuse` report, what `call-failed`, naming the call and the errno (EINVAL); exit 66. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

static struct timespec one_second_later(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 1;
  ts.tv_nsec = 1000000000; /* the bug: not normalised */
  return ts;
}

static TW_NOINLINE int wait_until(void) {
  struct timespec ts = one_second_later();
  TW_OK(pthread_mutex_lock(&mu));
  int r = pthread_cond_timedwait(&cv, &mu, &ts);
  TW_OK(pthread_mutex_unlock(&mu));
  return r;
}

static TW_NOINLINE int read_until(void) {
  struct timespec ts = one_second_later();
  return pthread_rwlock_timedrdlock(&rw, &ts);
}

static void *reader(void *arg) {
  *(int *)arg = read_until();
  return NULL;
}

static TW_NOINLINE int lock_stale(pthread_mutex_t *m) { return pthread_mutex_lock(m); }

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "timespec";
  int r;
  if (strcmp(what, "rwlock") == 0) {
    pthread_t t;
    TW_OK(pthread_rwlock_wrlock(&rw));
    TW_OK(pthread_create(&t, NULL, reader, &r));
    TW_OK(pthread_join(t, NULL));
    TW_OK(pthread_rwlock_unlock(&rw));
  } else if (strcmp(what, "uninit") == 0) {
    pthread_mutex_t stale;
    memset(&stale, 0x5a, sizeof(stale)); /* what an uninitialised heap or stack slot may hold */
    r = lock_stale(&stale);
  } else {
    r = wait_until();
  }
  printf("%s: %s\n", what, r == EINVAL ? "EINVAL" : strerror(r));
  return 0;
}
