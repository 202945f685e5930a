/*
 * A writer stuck on a full pipe: write_everything writes 1 MiB into a pipe nobody reads, while
 * main stays in pause(). A pipe stall in write().
 */
#include <fcntl.h>
#include <pthread.h>

#include "tw_test.h"

static int fds[2];
static char payload[1 << 20];

static void *write_everything(void *arg) {
  (void)arg;
  TW_CHECK(write(fds[1], payload, sizeof payload) == sizeof payload); /* fills, then blocks */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(pipe(fds) == 0);
  TW_OK(pthread_create(&t, NULL, write_everything, NULL));
  tw_test_idle_forever();
}
