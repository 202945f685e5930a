/*
 * lost_wakeup.c: a consumer that waits on a condition variable without checking a predicate.
 *
 * The producer signals "data ready" before the consumer has started waiting. Because the consumer
 * calls pthread_cond_wait() without first checking a flag under the mutex, the signal is lost and
 * the consumer sleeps forever. main() gives up after a timed join and exits: threadwatch reports a
 * thread-leak with what "blocked" in pthread_cond_wait, showing the consumer's stack
 * (wait_for_data) and where it was created (start_consumer).
 *
 * Run: LD_PRELOAD=build/libthreadwatch.so build/examples/lost_wakeup
 */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static int data;

__attribute__((noinline)) static void wait_for_data(void) {
  pthread_mutex_lock(&mu);
  pthread_cond_wait(&ready, &mu); /* BUG: should be `while (!data_ready) pthread_cond_wait(...)` */
  pthread_mutex_unlock(&mu);
}

static void *consumer(void *arg) {
  (void)arg;
  wait_for_data();
  printf("lost_wakeup: consumer got %d\n", data);
  return NULL;
}

__attribute__((noinline)) static int start_consumer(pthread_t *t) {
  return pthread_create(t, NULL, consumer, NULL);
}

int main(void) {
  pthread_t t;
  /* The producer runs first: its signal reaches no waiter and is lost. */
  pthread_mutex_lock(&mu);
  data = 42;
  pthread_cond_signal(&ready);
  pthread_mutex_unlock(&mu);

  if (start_consumer(&t) != 0) return 1;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += 300 * 1000 * 1000;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  if (pthread_timedjoin_np(t, NULL, &deadline) != 0) {
    printf("lost_wakeup: consumer did not finish, giving up\n");
  }
  return 0;
}
