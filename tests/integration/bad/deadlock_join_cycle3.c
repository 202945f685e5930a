/*
 * A join cycle of three threads: T2 joins T3, T3 joins T4, T4 joins T2. (glibc itself returns
 * EDEADLK for a cycle of two, a thread joining the thread that joins it, so the cycle has three.)
 * The handles are published through globals before a barrier releases the joins. main stays in
 * pause() (it cannot join: each thread already has a joiner).
 */
#include <pthread.h>

#include "tw_test.h"

static pthread_t handles[3];
static pthread_barrier_t handles_ready;

static void *join_next(void *arg) {
  int i = (int)(long)arg;
  pthread_barrier_wait(&handles_ready);
  TW_OK(pthread_join(handles[(i + 1) % 3], NULL)); /* the next one joins someone: forever */
  return NULL;
}

int main(void) {
  TW_OK(pthread_barrier_init(&handles_ready, NULL, 4));
  for (long i = 0; i < 3; i++) TW_OK(pthread_create(&handles[i], NULL, join_next, (void *)i));
  pthread_barrier_wait(&handles_ready);
  tw_test_idle_forever();
}
