/* A datum handed from one thread to another through a condvar: the producer fills it, sets `ready`
 * under the mutex and signals; the consumer, already waiting, wakes, and then uses the datum
 * without any lock. Signal -> wake (and the mutex's unlock -> lock) order the two: silent. The
 * mutex and condvar live on the heap, off the watched datum's page (page emulation: see
 * docs/race.md). */
#include <pthread.h>
#include <stdlib.h>

#include "tw_test.h"

static volatile long datum; /* watched */

struct box {
  pthread_mutex_t m;
  pthread_cond_t c;
  int ready;
  volatile pid_t consumer_tid;
};

static void *consumer(void *arg) {
  struct box *b = arg;
  TW_OK(pthread_mutex_lock(&b->m));
  b->consumer_tid = tw_test_gettid();
  while (!b->ready) TW_OK(pthread_cond_wait(&b->c, &b->m));
  TW_OK(pthread_mutex_unlock(&b->m));
  datum = datum * 2; /* the consumer owns it now */
  return NULL;
}

static void *producer(void *arg) {
  struct box *b = arg;
  datum = 21;
  TW_OK(pthread_mutex_lock(&b->m));
  b->ready = 1;
  TW_OK(pthread_cond_signal(&b->c));
  TW_OK(pthread_mutex_unlock(&b->m));
  return NULL;
}

int main(void) {
  struct box *b = calloc(1, sizeof(*b));
  TW_CHECK(b != NULL);
  TW_OK(pthread_mutex_init(&b->m, NULL));
  TW_OK(pthread_cond_init(&b->c, NULL));
  pthread_t c, p;
  TW_OK(pthread_create(&c, NULL, consumer, b));
  unsigned long spins = 0;
  while (b->consumer_tid == 0) tw_test_pause(&spins, "consumer to start", 0, 0);
  tw_test_wait_in_syscall(b->consumer_tid, SYS_futex); /* it waits on the condvar */
  TW_OK(pthread_create(&p, NULL, producer, b));
  TW_OK(pthread_join(p, NULL));
  TW_OK(pthread_join(c, NULL));
  return datum == 42 ? 0 : 1;
}
