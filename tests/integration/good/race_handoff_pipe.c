/* A datum handed from one thread to another through a pipe: the producer fills it and writes one
 * byte; the consumer's read returns after that write, and then it uses the datum. Write -> read
 * orders the two: silent. (The fds live on main's stack: under page emulation a system call given
 * a pointer into the watched page fails, docs/race.md.) */
#include <pthread.h>
#include <unistd.h>

#include "tw_test.h"

static volatile long datum; /* watched */

static void *consumer(void *arg) {
  int *fds = arg;
  char byte;
  TW_CHECK(read(fds[0], &byte, 1) == 1);
  datum = datum * 2;
  return NULL;
}

static void *producer(void *arg) {
  int *fds = arg;
  datum = 21;
  char byte = 'x';
  TW_CHECK(write(fds[1], &byte, 1) == 1);
  return NULL;
}

int main(void) {
  int fds[2];
  TW_CHECK(pipe(fds) == 0);
  pthread_t c, p;
  TW_OK(pthread_create(&c, NULL, consumer, fds));
  TW_OK(pthread_create(&p, NULL, producer, fds));
  TW_OK(pthread_join(p, NULL));
  TW_OK(pthread_join(c, NULL));
  return datum == 42 ? 0 : 1;
}
