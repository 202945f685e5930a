/*
 * Bounded-buffer producer/consumer with predicate loops: two producers, two consumers, one mutex
 * and two condvars. Signals often find no waiter (that is normal with a predicate), waits are
 * short, everything is joined: no report of any kind.
 */
#include <pthread.h>

#include "tw_test.h"

#define CAPACITY 8
#define PER_PRODUCER 20000
#define PRODUCERS 2
#define CONSUMERS 2

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static long buf[CAPACITY];
static int head, count, producers_left = PRODUCERS;
static long consumed_sum;

static void *produce(void *arg) {
  long base = (long)arg * PER_PRODUCER;
  for (long i = 1; i <= PER_PRODUCER; i++) {
    TW_OK(pthread_mutex_lock(&mu));
    while (count == CAPACITY) TW_OK(pthread_cond_wait(&not_full, &mu));
    buf[(head + count++) % CAPACITY] = base + i;
    TW_OK(pthread_cond_signal(&not_empty));
    TW_OK(pthread_mutex_unlock(&mu));
  }
  TW_OK(pthread_mutex_lock(&mu));
  if (--producers_left == 0) TW_OK(pthread_cond_broadcast(&not_empty));
  TW_OK(pthread_mutex_unlock(&mu));
  return NULL;
}

static void *consume(void *arg) {
  (void)arg;
  for (;;) {
    TW_OK(pthread_mutex_lock(&mu));
    while (count == 0 && producers_left > 0) TW_OK(pthread_cond_wait(&not_empty, &mu));
    if (count == 0) { /* drained and no producer left */
      TW_OK(pthread_mutex_unlock(&mu));
      return NULL;
    }
    long v = buf[head];
    head = (head + 1) % CAPACITY;
    count--;
    consumed_sum += v;
    TW_OK(pthread_cond_signal(&not_full));
    TW_OK(pthread_mutex_unlock(&mu));
  }
}

int main(void) {
  pthread_t p[PRODUCERS], c[CONSUMERS];
  for (long i = 0; i < CONSUMERS; i++) TW_OK(pthread_create(&c[i], NULL, consume, NULL));
  for (long i = 0; i < PRODUCERS; i++) TW_OK(pthread_create(&p[i], NULL, produce, (void *)i));
  for (int i = 0; i < PRODUCERS; i++) TW_OK(pthread_join(p[i], NULL));
  for (int i = 0; i < CONSUMERS; i++) TW_OK(pthread_join(c[i], NULL));
  long n = (long)PRODUCERS * PER_PRODUCER;
  TW_CHECK(consumed_sum == n * (n + 1) / 2);
  return 0;
}
