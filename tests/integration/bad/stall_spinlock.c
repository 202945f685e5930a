/*
 * A holder blocks while holding a spinlock: holder takes `table_lock` and then reads a request
 * pipe; waiter spins on `table_lock` longer than THREADWATCH_STALL. Not a deadlock (main could
 * write the pipe): the holder's read stalls first, then the waiter's spin, a spinlock stall that
 * names the holder and what it is blocked in. Once both reports are written, main writes the pipe
 * and everything ends.
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_spinlock_t table_lock;
static int req[2];
static volatile pid_t holder_tid;

static TW_NOINLINE void *holder(void *arg) {
  char c;
  (void)arg;
  pthread_spin_lock(&table_lock);
  holder_tid = tw_test_gettid();
  TW_CHECK(read(req[0], &c, 1) == 1);
  pthread_spin_unlock(&table_lock);
  return NULL;
}

static TW_NOINLINE void *waiter(void *arg) {
  (void)arg;
  pthread_spin_lock(&table_lock); /* spins until the holder has its request */
  pthread_spin_unlock(&table_lock);
  return NULL;
}

int main(void) {
  pthread_t h, w;
  TW_OK(pthread_spin_init(&table_lock, PTHREAD_PROCESS_PRIVATE));
  TW_CHECK(pipe(req) == 0);
  TW_OK(pthread_create(&h, NULL, holder, NULL));
  while (holder_tid == 0) sched_yield();
  tw_test_wait_in_syscall(holder_tid, SYS_read);
  TW_OK(pthread_create(&w, NULL, waiter, NULL));
  tw_test_wait_json_lines(2);
  TW_CHECK(write(req[1], "x", 1) == 1);
  TW_OK(pthread_join(h, NULL));
  TW_OK(pthread_join(w, NULL));
  return 0;
}
