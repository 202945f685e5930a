/*
 * forgotten_join.c: a worker that finishes but is never joined.
 *
 * main() starts a worker to compute a checksum, waits for the result through a condition variable
 * (so it is correct) and then simply forgets to call pthread_join(). The worker has exited, but its
 * stack and thread descriptor stay allocated until someone joins it: do that in a loop and memory
 * grows without bound. threadwatch reports a thread-leak with what "exited" and the place where the
 * thread was created (start_checksum).
 *
 * Run: LD_PRELOAD=build/libthreadwatch.so build/examples/forgotten_join
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static bool done;
static unsigned long checksum;

static void *compute(void *arg) {
  const char *text = arg;
  unsigned long h = 5381;
  for (const char *p = text; *p != '\0'; p++) h = h * 33 + (unsigned char)*p;
  pthread_mutex_lock(&mu);
  checksum = h;
  done = true;
  pthread_cond_signal(&done_cv);
  pthread_mutex_unlock(&mu);
  return NULL;
}

__attribute__((noinline)) static int start_checksum(const char *text) {
  pthread_t worker;
  return pthread_create(&worker, NULL, compute, (void *)text); /* BUG: worker is never joined */
}

int main(void) {
  if (start_checksum("threadwatch finds the threads you forgot") != 0) return 1;
  pthread_mutex_lock(&mu);
  while (!done) pthread_cond_wait(&done_cv, &mu);
  pthread_mutex_unlock(&mu);
  printf("forgotten_join: checksum %lu\n", checksum);
  return 0;
}
