/* The hand-off of good/race_handoff_pipe.c through an eventfd: eventfd_write -> eventfd_read orders
 * the producer's fill before the consumer's use: silent. */
#include <pthread.h>
#include <sys/eventfd.h>

#include "tw_test.h"

static volatile long datum; /* watched */
static int efd;

static void *consumer(void *arg) {
  (void)arg;
  eventfd_t v;
  TW_CHECK(eventfd_read(efd, &v) == 0);
  datum = datum * 2;
  return NULL;
}

static void *producer(void *arg) {
  (void)arg;
  datum = 21;
  TW_CHECK(eventfd_write(efd, 1) == 0);
  return NULL;
}

int main(void) {
  efd = eventfd(0, 0);
  TW_CHECK(efd >= 0);
  pthread_t c, p;
  TW_OK(pthread_create(&c, NULL, consumer, NULL));
  TW_OK(pthread_create(&p, NULL, producer, NULL));
  TW_OK(pthread_join(p, NULL));
  TW_OK(pthread_join(c, NULL));
  return datum == 42 ? 0 : 1;
}
