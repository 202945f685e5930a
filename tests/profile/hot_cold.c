/*
 * A hot lock and a cold one, for the contention profiles (tests/profile/run.sh). WORKERS threads each
 * take the hot lock ROUNDS times and hold it across a 200 us sleep inside update_hot (so that the
 * others queue on it, whatever the machine's speed), and take the cold lock every 8th round for a
 * counter increment in update_cold. Both locks are named (threadwatch_name_lock). Then, with
 * argument `park`: WORKERS threads park in a condvar wait in park_here, the program says "parked 1"
 * and waits for a line on stdin; then WORKERS more park in park_there, it says "parked 2" and
 * waits for stdin to close (the test dumps it at each step), then releases and joins them all.
 * With argument `kinds`, the workers then take an rwlock for writing and a spinlock, each held
 * across a sleep (update_rw, update_spin), so that both are contended too.
 * Without an argument, the program exits after the workers.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "threadwatch.h"

#define WORKERS 4
#define ROUNDS 100

static pthread_mutex_t hot = PTHREAD_MUTEX_INITIALIZER, cold = PTHREAD_MUTEX_INITIALIZER;
static long hot_count, cold_count;
static pthread_mutex_t park_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cv = PTHREAD_COND_INITIALIZER;
static int released;

__attribute__((noinline)) void update_hot(void) {
  pthread_mutex_lock(&hot);
  struct timespec ts = {0, 200 * 1000};
  nanosleep(&ts, NULL); /* the work done under the hot lock */
  hot_count++;
  pthread_mutex_unlock(&hot);
}

__attribute__((noinline)) void update_cold(void) {
  pthread_mutex_lock(&cold);
  cold_count++;
  pthread_mutex_unlock(&cold);
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;

__attribute__((noinline)) void update_rw(void) {
  pthread_rwlock_wrlock(&rw);
  struct timespec ts = {0, 100 * 1000};
  nanosleep(&ts, NULL);
  pthread_rwlock_unlock(&rw);
}

__attribute__((noinline)) void update_spin(void) {
  pthread_spin_lock(&spin);
  struct timespec ts = {0, 100 * 1000};
  nanosleep(&ts, NULL);
  pthread_spin_unlock(&spin);
}

static void *kinds_worker(void *arg) {
  (void)arg;
  for (int i = 0; i < 20; i++) {
    update_rw();
    update_spin();
  }
  return NULL;
}

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    update_hot();
    if (i % 8 == 0) update_cold();
  }
  return NULL;
}

/* A macro, not a function: the wait's own frame is then park_here or park_there. */
#define PARK()                                                     \
  do {                                                             \
    pthread_mutex_lock(&park_mu);                                  \
    while (!released) pthread_cond_wait(&park_cv, &park_mu);       \
    pthread_mutex_unlock(&park_mu);                                \
  } while (0)

__attribute__((noinline)) void park_here(void) { PARK(); }
__attribute__((noinline)) void park_there(void) { PARK(); }

static void *parker_here(void *arg) {
  (void)arg;
  park_here();
  return NULL;
}

static void *parker_there(void *arg) {
  (void)arg;
  park_there();
  return NULL;
}

/* Reads stdin up to a newline (1) or its end (0). */
static int wait_line(void) {
  char c;
  while (read(0, &c, 1) > 0)
    if (c == '\n') return 1;
  return 0;
}

int main(int argc, char **argv) {
  threadwatch_name_lock(&hot, "hot");
  threadwatch_name_lock(&cold, "cold");
  pthread_t w[WORKERS];
  for (int i = 0; i < WORKERS; i++) pthread_create(&w[i], NULL, worker, NULL);
  for (int i = 0; i < WORKERS; i++) pthread_join(w[i], NULL);
  if (argc > 1 && strcmp(argv[1], "kinds") == 0) {
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    threadwatch_name_lock(&rw, "rw");
    threadwatch_name_lock(&spin, "spin");
    for (int i = 0; i < WORKERS; i++) pthread_create(&w[i], NULL, kinds_worker, NULL);
    for (int i = 0; i < WORKERS; i++) pthread_join(w[i], NULL);
  }
  if (argc > 1 && strcmp(argv[1], "park") == 0) {
    pthread_t here[WORKERS], there[WORKERS];
    for (int i = 0; i < WORKERS; i++) pthread_create(&here[i], NULL, parker_here, NULL);
    printf("parked 1\n");
    fflush(stdout);
    wait_line();
    for (int i = 0; i < WORKERS; i++) pthread_create(&there[i], NULL, parker_there, NULL);
    printf("parked 2\n");
    fflush(stdout);
    while (wait_line()) {
    }
    pthread_mutex_lock(&park_mu);
    released = 1;
    pthread_cond_broadcast(&park_cv);
    pthread_mutex_unlock(&park_mu);
    for (int i = 0; i < WORKERS; i++) pthread_join(here[i], NULL);
    for (int i = 0; i < WORKERS; i++) pthread_join(there[i], NULL);
  }
  printf("hot %ld cold %ld\n", hot_count, cold_count);
  return 0;
}
