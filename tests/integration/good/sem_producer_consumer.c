/*
 * A bounded buffer on two semaphores (free slots, filled slots) and a mutex, two producers and two
 * consumers; a named semaphore as a start gate; a timed wait that times out; sem_trywait on an
 * empty semaphore. Every thread is joined and every semaphore destroyed or closed: silent.
 */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>

#include "tw_test.h"

#define SLOTS 4
#define ITEMS 2000

static sem_t free_slots, filled;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int buf[SLOTS], head, tail;
static long sum;
static sem_t *gate;

static void *producer(void *arg) {
  TW_CHECK(sem_wait(gate) == 0);
  for (int i = 0; i < ITEMS; i++) {
    TW_CHECK(sem_wait(&free_slots) == 0);
    pthread_mutex_lock(&mu);
    buf[head++ % SLOTS] = (int)(long)arg;
    pthread_mutex_unlock(&mu);
    TW_CHECK(sem_post(&filled) == 0);
  }
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  for (int i = 0; i < ITEMS; i++) {
    TW_CHECK(sem_wait(&filled) == 0);
    pthread_mutex_lock(&mu);
    sum += buf[tail++ % SLOTS];
    pthread_mutex_unlock(&mu);
    TW_CHECK(sem_post(&free_slots) == 0);
  }
  return NULL;
}

int main(void) {
  char name[64];
  snprintf(name, sizeof(name), "/tw-test-gate-%d", (int)getpid());
  gate = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
  TW_CHECK(gate != SEM_FAILED);
  TW_CHECK(sem_unlink(name) == 0);
  TW_CHECK(sem_init(&free_slots, 0, SLOTS) == 0 && sem_init(&filled, 0, 0) == 0);
  pthread_t p[2], c[2];
  for (int i = 0; i < 2; i++) {
    TW_OK(pthread_create(&p[i], NULL, producer, (void *)(long)(i + 1)));
    TW_OK(pthread_create(&c[i], NULL, consumer, NULL));
  }
  TW_CHECK(sem_post(gate) == 0 && sem_post(gate) == 0);
  for (int i = 0; i < 2; i++) {
    TW_OK(pthread_join(p[i], NULL));
    TW_OK(pthread_join(c[i], NULL));
  }
  TW_CHECK(sum == 3L * ITEMS);

  /* Timed and non-blocking waits on an empty semaphore. */
  sem_t empty;
  TW_CHECK(sem_init(&empty, 0, 0) == 0);
  TW_CHECK(sem_trywait(&empty) == -1 && errno == EAGAIN);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 20 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  TW_CHECK(sem_timedwait(&empty, &ts) == -1 && errno == ETIMEDOUT);
  TW_CHECK(sem_destroy(&empty) == 0);
  TW_CHECK(sem_destroy(&free_slots) == 0 && sem_destroy(&filled) == 0);
  TW_CHECK(sem_close(gate) == 0);
  return 0;
}
