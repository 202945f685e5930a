/*
 * Detached threads are not leaks: detached by attribute, by themselves and by their creator, some
 * finished and three still blocked in read() when main returns. Silent unless
 * THREADWATCH_LEAK_DETACHED=1 (see bad/leak_detached_opt.expect).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

#define NFINISH 5
#define NREADERS 3

static _Atomic pid_t finished_tids[3 * NFINISH];
static _Atomic int next_slot;
static pid_t reader_tids[NREADERS];
static int never_written[2];
static pthread_barrier_t readers_started;

static void *finisher(void *arg) {
  if (arg != NULL) TW_OK(pthread_detach(pthread_self()));
  atomic_store(&finished_tids[atomic_fetch_add(&next_slot, 1)], tw_test_gettid());
  return NULL;
}

static void *reader(void *arg) {
  char c;
  reader_tids[(long)arg] = tw_test_gettid();
  pthread_barrier_wait(&readers_started);
  ssize_t n = read(never_written[0], &c, 1);
  return (void *)n;
}

TW_NOINLINE void spawn_detached_readers(void) {
  pthread_attr_t attr;
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  for (long i = 0; i < NREADERS; i++) {
    pthread_t t;
    TW_OK(pthread_create(&t, &attr, reader, (void *)i));
  }
  TW_OK(pthread_attr_destroy(&attr));
}

TW_NOINLINE void spawn_finishers(void) {
  pthread_attr_t attr;
  pthread_t t;
  TW_OK(pthread_attr_init(&attr));
  TW_OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
  for (int i = 0; i < NFINISH; i++) {
    TW_OK(pthread_create(&t, &attr, finisher, NULL));              /* detached by attribute */
    TW_OK(pthread_create(&t, NULL, finisher, (void *)1));         /* detaches itself */
    TW_OK(pthread_create(&t, NULL, finisher, NULL));              /* detached by its creator */
    TW_OK(pthread_detach(t));
  }
  TW_OK(pthread_attr_destroy(&attr));
}

int main(void) {
  unsigned long spins = 0;
  TW_CHECK(pipe(never_written) == 0);
  TW_OK(pthread_barrier_init(&readers_started, NULL, NREADERS + 1));
  spawn_finishers();
  spawn_detached_readers();
  pthread_barrier_wait(&readers_started);
  for (int i = 0; i < NREADERS; i++) tw_test_wait_in_syscall(reader_tids[i], SYS_read);
  while (atomic_load(&next_slot) < 3 * NFINISH) tw_test_pause(&spins, "finishers", 0, 0);
  for (int i = 0; i < 3 * NFINISH; i++) {
    pid_t tid;
    while ((tid = atomic_load(&finished_tids[i])) == 0) tw_test_pause(&spins, "finisher tid", i, 0);
    tw_test_wait_gone(tid);
  }
  return 0; /* the three readers are still blocked in read(): detached, so not a leak */
}
