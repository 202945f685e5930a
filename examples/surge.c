/*
 * surge.c: a thread per connection, and a burst of connections.
 *
 * accept_burst() starts one thread per incoming "connection" with no pool and no limit; a burst of
 * 200 connections means 200 threads alive at once. Every thread is joined, so nothing leaks, but
 * the live thread count passes the limit: with THREADWATCH_MAX_THREADS=100 threadwatch makes one
 * thread-surge report, grouping the live threads by creation stack (accept_burst). At production
 * scale (thousands of threads) this is how a server runs out of memory or hits ulimit -u.
 *
 * Run: THREADWATCH_MAX_THREADS=100 LD_PRELOAD=build/libthreadwatch.so build/examples/surge
 */
#include <pthread.h>
#include <stdio.h>

#define NCONNECTIONS 200

static pthread_barrier_t all_connected;
static pthread_t handlers[NCONNECTIONS];

static void *serve_connection(void *arg) {
  pthread_barrier_wait(&all_connected); /* every connection is open at the same moment */
  return arg;
}

__attribute__((noinline)) static int accept_burst(void) {
  for (long i = 0; i < NCONNECTIONS; i++) {
    /* BUG (design): one thread per connection, unbounded. */
    if (pthread_create(&handlers[i], NULL, serve_connection, (void *)i) != 0) return -1;
  }
  return 0;
}

int main(void) {
  if (pthread_barrier_init(&all_connected, NULL, NCONNECTIONS + 1) != 0) return 1;
  if (accept_burst() != 0) return 1;
  pthread_barrier_wait(&all_connected);
  for (int i = 0; i < NCONNECTIONS; i++) pthread_join(handlers[i], NULL);
  printf("surge: served %d connections with %d threads\n", NCONNECTIONS, NCONNECTIONS);
  return 0;
}
