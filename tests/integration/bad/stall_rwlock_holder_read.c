/*
 * A rwlock stall: read_holding_wrlock write-locks the rwlock and then blocks in read() on a pipe
 * nobody writes; rdlock_behind_writer waits to read-lock it. main starts the second thread only
 * once the first is blocked in read, then stays in pause().
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static int fds[2];
static pid_t writer_tid;
static pthread_barrier_t writer_started;

static void *read_holding_wrlock(void *arg) {
  char c;
  (void)arg;
  TW_OK(pthread_rwlock_wrlock(&cache_lock));
  writer_tid = tw_test_gettid();
  pthread_barrier_wait(&writer_started);
  TW_CHECK(read(fds[0], &c, 1) == 1); /* nobody writes: blocks forever, holding cache_lock */
  TW_OK(pthread_rwlock_unlock(&cache_lock));
  return NULL;
}

static void *rdlock_behind_writer(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_rdlock(&cache_lock)); /* write-held by the stuck thread */
  TW_OK(pthread_rwlock_unlock(&cache_lock));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_barrier_init(&writer_started, NULL, 2));
  TW_OK(pthread_create(&t, NULL, read_holding_wrlock, NULL));
  pthread_barrier_wait(&writer_started);
  tw_test_wait_in_syscall(writer_tid, SYS_read);
  TW_OK(pthread_create(&t, NULL, rdlock_behind_writer, NULL));
  tw_test_idle_forever();
}
