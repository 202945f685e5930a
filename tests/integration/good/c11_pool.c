/*
 * A C11 worker pool: a job queue under an mtx_t with two cnd_t, four workers made with
 * thrd_create, a shutdown broadcast, every worker joined with thrd_join (one returns through
 * thrd_exit); a detached helper that ends before main; a timed lock and a timed wait that time
 * out; a recursive mutex taken twice. Silent.
 */
#include <threads.h>

#include "tw_test.h"

#define WORKERS 4
#define JOBS 2000

static mtx_t mu;
static cnd_t have_job, idle;
static int queued, done, shutting_down;
static mtx_t helper_mu;
static cnd_t helper_done;
static int helper_finished;

static int worker(void *arg) {
  long id = (long)arg;
  mtx_lock(&mu);
  for (;;) {
    while (queued == 0 && !shutting_down) cnd_wait(&have_job, &mu);
    if (queued == 0) break;
    queued--;
    done++;
    if (queued == 0) cnd_signal(&idle);
  }
  mtx_unlock(&mu);
  if (id == 0) thrd_exit(7);
  return 0;
}

static int helper(void *arg) {
  (void)arg;
  mtx_lock(&helper_mu);
  helper_finished = 1;
  cnd_signal(&helper_done);
  mtx_unlock(&helper_mu);
  return 0;
}

int main(void) {
  thrd_t t[WORKERS], h;
  TW_CHECK(mtx_init(&mu, mtx_timed) == thrd_success);
  TW_CHECK(cnd_init(&have_job) == thrd_success && cnd_init(&idle) == thrd_success);
  TW_CHECK(mtx_init(&helper_mu, mtx_plain) == thrd_success && cnd_init(&helper_done) == thrd_success);
  for (long i = 0; i < WORKERS; i++) TW_CHECK(thrd_create(&t[i], worker, (void *)i) == thrd_success);
  for (int j = 0; j < JOBS; j++) {
    mtx_lock(&mu);
    queued++;
    cnd_signal(&have_job);
    mtx_unlock(&mu);
  }
  mtx_lock(&mu);
  while (queued) cnd_wait(&idle, &mu);
  shutting_down = 1;
  cnd_broadcast(&have_job);
  mtx_unlock(&mu);
  for (int i = 0; i < WORKERS; i++) {
    int res = -1;
    TW_CHECK(thrd_join(t[i], &res) == thrd_success);
    TW_CHECK(res == (i == 0 ? 7 : 0));
  }
  TW_CHECK(done == JOBS);

  TW_CHECK(thrd_create(&h, helper, NULL) == thrd_success);
  TW_CHECK(thrd_detach(h) == thrd_success);
  mtx_lock(&helper_mu);
  while (!helper_finished) cnd_wait(&helper_done, &helper_mu);
  mtx_unlock(&helper_mu);

  /* Timed calls that time out: a lock held by this thread's other mutex user, a wait nobody ends. */
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  ts.tv_nsec += 20 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  mtx_lock(&mu);
  TW_CHECK(cnd_timedwait(&idle, &mu, &ts) == thrd_timedout);
  mtx_unlock(&mu);
  TW_CHECK(mtx_trylock(&mu) == thrd_success);
  mtx_unlock(&mu);

  mtx_t rec;
  TW_CHECK(mtx_init(&rec, mtx_plain | mtx_recursive) == thrd_success);
  mtx_lock(&rec);
  mtx_lock(&rec);
  mtx_unlock(&rec);
  mtx_unlock(&rec);
  mtx_destroy(&rec);
  mtx_destroy(&mu);
  cnd_destroy(&have_job);
  cnd_destroy(&idle);
  return 0;
}
