/* A classic thread pool: mutex + condvar work queue, 4 workers, 1000 jobs, shut down and joined. */
#include <pthread.h>
#include <stdbool.h>

#include "tw_test.h"

#define NWORKERS 4
#define NJOBS 1000
#define QCAP 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static int queue[QCAP];
static int head, len;
static bool shutting_down;
static long sum;

static void *worker(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (len == 0 && !shutting_down) pthread_cond_wait(&not_empty, &mu);
    if (len == 0) break; /* shutting down and drained */
    int job = queue[head];
    head = (head + 1) % QCAP;
    len--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&mu);
    long r = (long)job * 2; /* the "work" */
    pthread_mutex_lock(&mu);
    sum += r;
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

int main(void) {
  pthread_t workers[NWORKERS];
  for (int i = 0; i < NWORKERS; i++) TW_OK(pthread_create(&workers[i], NULL, worker, NULL));
  for (int j = 1; j <= NJOBS; j++) {
    pthread_mutex_lock(&mu);
    while (len == QCAP) pthread_cond_wait(&not_full, &mu);
    queue[(head + len) % QCAP] = j;
    len++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mu);
  }
  pthread_mutex_lock(&mu);
  shutting_down = true;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < NWORKERS; i++) TW_OK(pthread_join(workers[i], NULL));
  TW_CHECK(sum == (long)NJOBS * (NJOBS + 1));
  return 0;
}
