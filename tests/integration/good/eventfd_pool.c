/*
 * A worker pool fed through eventfds: main posts jobs on one eventfd (semaphore mode), workers
 * take one each and post completions on another, main waits for them; at the end main posts one
 * stop token per worker and joins them all. Workers and main block on eventfds all the time, but
 * every wait is ended by the other side: no report.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>

#include "tw_test.h"

#define WORKERS 4
#define BATCHES 10000
#define BATCH 4

static int jobs, done;
static _Atomic int stop, handled;

static void post(int fd, uint64_t n) { TW_CHECK(write(fd, &n, sizeof n) == sizeof n); }

static uint64_t take(int fd) {
  uint64_t v;
  TW_CHECK(read(fd, &v, sizeof v) == sizeof v);
  return v;
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    take(jobs); /* one job (semaphore mode) */
    if (atomic_load(&stop)) return NULL;
    atomic_fetch_add(&handled, 1);
    post(done, 1);
  }
}

int main(void) {
  pthread_t w[WORKERS];
  jobs = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
  done = eventfd(0, EFD_CLOEXEC);
  TW_CHECK(jobs >= 0 && done >= 0);
  for (int i = 0; i < WORKERS; i++) TW_OK(pthread_create(&w[i], NULL, worker, NULL));
  for (int b = 0; b < BATCHES; b++) {
    post(jobs, BATCH);
    for (uint64_t got = 0; got < BATCH;) got += take(done);
  }
  atomic_store(&stop, 1);
  post(jobs, WORKERS);
  for (int i = 0; i < WORKERS; i++) TW_OK(pthread_join(w[i], NULL));
  TW_CHECK(atomic_load(&handled) == BATCHES * BATCH);
  return 0;
}
