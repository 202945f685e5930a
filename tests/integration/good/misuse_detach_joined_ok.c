/*
 * The twin of bad/misuse_detach_joined: each thread is either joined or detached, never both. One
 * worker is detached while it still runs, one is detached after it has ended (glibc keeps its
 * descriptor until then: detaching it is correct and frees it), one is joined.
 */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool release; /* under mu */
static int done;     /* under mu */
static pid_t ended_tid; /* under mu */

static void *runs_until_released(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  while (!release) TW_OK(pthread_cond_wait(&cv, &mu));
  done++;
  TW_OK(pthread_cond_broadcast(&cv));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

static void *ends_at_once(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&mu));
  ended_tid = tw_test_gettid();
  TW_OK(pthread_cond_broadcast(&cv));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

int main(void) {
  pthread_t a, b, c;
  TW_OK(pthread_create(&a, NULL, runs_until_released, NULL));
  TW_OK(pthread_detach(a)); /* still running (waiting for release) */

  TW_OK(pthread_create(&b, NULL, ends_at_once, NULL));
  TW_OK(pthread_mutex_lock(&mu));
  while (ended_tid == 0) TW_OK(pthread_cond_wait(&cv, &mu));
  pid_t tid = ended_tid;
  TW_OK(pthread_mutex_unlock(&mu));
  tw_test_wait_gone(tid);
  TW_OK(pthread_detach(b)); /* ended, never joined */

  TW_OK(pthread_create(&c, NULL, runs_until_released, NULL));
  TW_OK(pthread_mutex_lock(&mu));
  release = true;
  TW_OK(pthread_cond_broadcast(&cv));
  while (done < 2) TW_OK(pthread_cond_wait(&cv, &mu));
  TW_OK(pthread_mutex_unlock(&mu));
  TW_OK(pthread_join(c, NULL));
  return 0;
}
