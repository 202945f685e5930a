/*
 * goleak_test.c: a cmocka test that fails when the code under test leaks a thread (Go's goleak).
 *
 * The code under test is a job queue with one worker thread. queue_close_leaky() sets the closing
 * flag and returns, but forgets to wake the worker and to join it: the worker stays blocked in
 * pthread_cond_wait() forever, one more thread for every queue a program opens and closes.
 * queue_close() wakes it and joins it.
 *
 * Each test takes a threadwatch_mark() first and ends with
 *     assert_int_equal(threadwatch_check_leaks(mark, 100), 0);
 * which waits up to 100 ms for the threads created since the mark to end. Under the preload the
 * leaky test fails: the worker is still there, and a thread-leak report (text on stderr, JSON with
 * THREADWATCH_JSON) shows where it was created (queue_open) and what it waits on (the condvar and
 * the mutex named "job queue lock" with threadwatch_name_lock). The fixed test passes. Without the
 * preload both pass: every threadwatch_* call is a no-op that returns 0.
 *
 * Run: LD_PRELOAD=build/libthreadwatch.so build/examples/goleak_test
 */
#include <pthread.h>
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "threadwatch.h"

/* --- the code under test --------------------------------------------------------------------- */

struct queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int jobs;     /* queued jobs (a job is just a count here) */
  int done;     /* jobs the worker has run */
  bool closing;
  pthread_t worker;
};

static void *worker_main(void *arg) {
  struct queue *q = arg;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (q->jobs == 0 && !q->closing) pthread_cond_wait(&q->cv, &q->mu);
    if (q->jobs == 0) break; /* closing and nothing left to do */
    q->jobs--;
    q->done++;
    pthread_cond_broadcast(&q->cv); /* queue_drain waits for this */
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

static __attribute__((noinline)) struct queue *queue_open(void) {
  struct queue *q = calloc(1, sizeof(*q));
  assert_non_null(q);
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  threadwatch_name_lock(&q->mu, "job queue lock"); /* how reports will call it */
  assert_int_equal(pthread_create(&q->worker, NULL, worker_main, q), 0);
  return q;
}

static void queue_push(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  q->jobs++;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

static void queue_drain(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  while (q->jobs > 0) pthread_cond_wait(&q->cv, &q->mu);
  pthread_mutex_unlock(&q->mu);
}

/* The bug: the worker is neither woken nor joined. (The queue is not freed either: the worker still
 * uses it.) */
static void queue_close_leaky(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  q->closing = true;
  pthread_mutex_unlock(&q->mu);
}

static void queue_close(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  q->closing = true;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
  pthread_join(q->worker, NULL);
  threadwatch_name_lock(&q->mu, NULL); /* the memory is about to be reused */
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  free(q);
}

/* --- the tests ------------------------------------------------------------------------------- */

static void test_queue_close_leaky(void **state) {
  (void)state;
  threadwatch_mark_t mark = threadwatch_mark();
  struct queue *q = queue_open();
  queue_push(q);
  queue_drain(q);
  queue_close_leaky(q);
  /* Fails under the preload: 1 thread (the worker) is still blocked in pthread_cond_wait. */
  assert_int_equal(threadwatch_check_leaks(mark, 100), 0);
}

static void test_queue_close(void **state) {
  (void)state;
  threadwatch_mark_t mark = threadwatch_mark();
  struct queue *q = queue_open();
  queue_push(q);
  queue_drain(q);
  queue_close(q);
  assert_int_equal(threadwatch_check_leaks(mark, 100), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_queue_close_leaky),
      cmocka_unit_test(test_queue_close),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
