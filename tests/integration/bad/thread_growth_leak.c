/*
 * A server that leaks one thread per request: each handler blocks forever in read() on a pipe that
 * nobody writes, and nobody joins it. With THREADWATCH_GROWTH=100ms the live threads of its creation
 * site rise period after period: one thread-growth warning, long before any thread limit. The
 * program goes on serving until the warning is in its JSON file (it never waits on a clock for it),
 * or until it has served `max` requests (the first argument; default 2000), then exits: the leaked
 * threads are then a thread-leak too.
 */
#include <fcntl.h>
#include <pthread.h>

#include "tw_test.h"

static int never_written[2];

static void *handler(void *arg) {
  (void)arg;
  char c;
  (void)read(never_written[0], &c, 1); /* the leak: waits for a reply that never comes */
  return NULL;
}

TW_NOINLINE void handle_request(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, handler, NULL)); /* never joined */
}

/* Whether the JSON report file names a thread-growth report yet. */
static int growth_reported(const char *json) {
  if (!json || !*json) return 0;
  int fd = open(json, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  static char buf[1 << 16];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return strstr(buf, "\"kind\":\"thread-growth\"") != NULL;
}

int main(int argc, char **argv) {
  long max = argc > 1 ? atol(argv[1]) : 2000;
  TW_CHECK(pipe(never_written) == 0);
  const char *json = getenv("THREADWATCH_JSON");
  for (long served = 0; served < max && !growth_reported(json); served++) {
    handle_request();
    struct timespec between = {0, 20 * 1000 * 1000}; /* the pace of requests, not an ordering */
    nanosleep(&between, NULL);
  }
  return 0;
}
