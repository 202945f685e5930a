/*
 * queue_test.c: the test of a job queue, with a bug for threadwatch to find: queue_close() forgets
 * to wake and join the worker thread, which stays blocked on the condvar. Each test takes a
 * threadwatch_mark() and ends with threadwatch_check_leaks_text(), which fails the test with the
 * leak report (where the thread was created, where it is blocked) as the failure message.
 * Without threadwatch preloaded every threadwatch_* call is a no-op and the tests pass.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <threadwatch.h>

struct queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool started, closing;
  pthread_t worker;
};

static void *worker_main(void *arg) {
  struct queue *q = arg;
  pthread_mutex_lock(&q->mu);
  q->started = true;
  pthread_cond_broadcast(&q->cv);
  while (!q->closing) pthread_cond_wait(&q->cv, &q->mu);
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

static __attribute__((noinline)) struct queue *queue_open(void) {
  struct queue *q = calloc(1, sizeof(*q));
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  pthread_create(&q->worker, NULL, worker_main, q);
  pthread_mutex_lock(&q->mu);
  while (!q->started) pthread_cond_wait(&q->cv, &q->mu);
  pthread_mutex_unlock(&q->mu);
  return q;
}

/* The bug: the worker is told to close, but never woken, and never joined. */
static __attribute__((noinline)) void queue_close(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  q->closing = true;
  pthread_mutex_unlock(&q->mu);
}

static int test_open_close(void) {
  threadwatch_mark_t mark = threadwatch_mark();
  struct queue *q = queue_open();
  queue_close(q);
  char why[16384];
  int leaked = threadwatch_check_leaks_text(mark, 100, why, sizeof(why));
  if (leaked != 0) {
    printf("FAIL test_open_close: %d thread(s) left behind:\n%s", leaked, why);
    return 1;
  }
  printf("ok   test_open_close\n");
  return 0;
}

int main(void) { return test_open_close(); }
