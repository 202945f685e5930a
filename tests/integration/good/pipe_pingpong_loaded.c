/* Issue 11 item 11: two threads that each loop { write one byte; read one byte } on ONE pipe can
 * never both block (each read finds at least the byte its own thread just wrote), yet beside
 * CPU-busy threads the "wrote before" rule reported a deadlock wait-cycle: each thread was seen in
 * its read() wait state while the other, preempted inside the hook (between publishing the wait
 * and the real read, or between the read's return and the wait's end), looked blocked too.
 * Runs TW_PINGPONG_SECONDS (default 10) seconds beside TW_BUSY_THREADS (default 6) spinning
 * threads. Must stay silent: no report, exit 0.
 * Baseline (efd829f): fails in most 10 s runs on a 2-core machine (see NOTES.md, item 11). */
#include <stdatomic.h>

#include "tw_test.h"

static int fds[2];
static atomic_int stop;
static atomic_ulong rounds;

static void *busy(void *arg) {
  volatile unsigned long x = 0;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) x++;
  return arg;
}

static TW_NOINLINE void *ping(void *arg) {
  char c = 'x';
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    TW_CHECK(write(fds[1], &c, 1) == 1);
    TW_CHECK(read(fds[0], &c, 1) == 1);
    atomic_fetch_add_explicit(&rounds, 1, memory_order_relaxed);
  }
  return arg;
}

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : dflt;
}

int main(void) {
  long secs = env_long("TW_PINGPONG_SECONDS", 10), nbusy = env_long("TW_BUSY_THREADS", 6);
  TW_CHECK(pipe(fds) == 0);
  pthread_t p[2], b[64];
  if (nbusy > 64) nbusy = 64;
  for (long i = 0; i < nbusy; i++) TW_OK(pthread_create(&b[i], NULL, busy, NULL));
  for (int i = 0; i < 2; i++) TW_OK(pthread_create(&p[i], NULL, ping, NULL));
  tw_test_sleep_ms(secs * 1000);
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) TW_OK(pthread_join(p[i], NULL));
  for (long i = 0; i < nbusy; i++) TW_OK(pthread_join(b[i], NULL));
  if (getenv("TW_VERBOSE")) fprintf(stderr, "rounds: %lu\n", (unsigned long)rounds);
  return 0;
}
