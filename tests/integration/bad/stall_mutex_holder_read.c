/*
 * A mutex stall whose holder is itself stuck: read_holding_lock takes the mutex and then blocks in
 * read() on a pipe nobody writes; lock_behind_reader waits for the mutex. main starts the second
 * thread only once the first is blocked in read, then stays in pause().
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static int fds[2];
static pid_t reader_tid;
static pthread_barrier_t reader_started;

static void *read_holding_lock(void *arg) {
  char c;
  (void)arg;
  TW_OK(pthread_mutex_lock(&table_lock));
  reader_tid = tw_test_gettid();
  pthread_barrier_wait(&reader_started);
  TW_CHECK(read(fds[0], &c, 1) == 1); /* nobody writes: blocks forever, holding table_lock */
  TW_OK(pthread_mutex_unlock(&table_lock));
  return NULL;
}

static void *lock_behind_reader(void *arg) {
  (void)arg;
  TW_OK(pthread_mutex_lock(&table_lock)); /* held by the stuck reader */
  TW_OK(pthread_mutex_unlock(&table_lock));
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_barrier_init(&reader_started, NULL, 2));
  TW_OK(pthread_create(&t, NULL, read_holding_lock, NULL));
  pthread_barrier_wait(&reader_started);
  tw_test_wait_in_syscall(reader_tid, SYS_read);
  TW_OK(pthread_create(&t, NULL, lock_behind_reader, NULL));
  tw_test_idle_forever();
}
