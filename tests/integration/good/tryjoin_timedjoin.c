/* pthread_tryjoin_np and pthread_timedjoin_np loops that fail (EBUSY, ETIMEDOUT), then join. */
#include <pthread.h>
#include <semaphore.h>

#include "tw_test.h"

static sem_t release_try, release_timed;

static void *wait_for(void *arg) {
  while (sem_wait(arg) != 0) continue;
  return arg;
}

int main(void) {
  pthread_t t1, t2;
  void *ret;
  int rc, busy = 0, timeouts = 0;
  TW_CHECK(sem_init(&release_try, 0, 0) == 0 && sem_init(&release_timed, 0, 0) == 0);
  TW_OK(pthread_create(&t1, NULL, wait_for, &release_try));
  TW_OK(pthread_create(&t2, NULL, wait_for, &release_timed));

  while ((rc = pthread_tryjoin_np(t1, &ret)) == EBUSY) {
    if (++busy == 3) TW_CHECK(sem_post(&release_try) == 0);
    sched_yield();
  }
  TW_OK(rc);
  TW_CHECK(busy >= 3 && ret == &release_try);

  for (;;) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 5 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
    rc = pthread_timedjoin_np(t2, &ret, &deadline);
    if (rc != ETIMEDOUT) break;
    if (++timeouts == 2) TW_CHECK(sem_post(&release_timed) == 0);
  }
  TW_OK(rc);
  TW_CHECK(timeouts >= 2 && ret == &release_timed);
  return 0;
}
