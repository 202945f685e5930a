/*
 * hot_lock.c: one lock everybody needs, held across slow work.
 *
 * A small bank: four tellers post transfers and two auditors add up the balances, all under one
 * ledger lock. The tellers also write each transfer to a journal (a 100 us stand-in for a disk
 * write) while still holding the ledger: everyone else queues behind that write. Nothing hangs and
 * the totals are right, so there is no report; the contention profiles show the cost instead. The
 * contention table at exit names the "ledger" lock; the block profile says where threads waited
 * (the tellers in transfer, the auditors in audit); the mutex profile charges the delay to the
 * holder that caused it, transfer's unlock after journal_write: the place to fix (write the
 * journal after the unlock). README.md's flame graph is this program's block profile.
 *
 * Run: THREADWATCH_PROFILE=block,mutex THREADWATCH_PROFILE_DIR=prof \
 *        LD_PRELOAD=build/libthreadwatch.so build/examples/hot_lock
 *      go tool pprof -top -sample_index=delay prof/threadwatch.*.mutex.pb.gz
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "threadwatch.h"

#define ACCOUNTS 16
#define TELLERS 4
#define TRANSFERS 200
#define AUDITORS 2
#define AUDITS 100

static pthread_mutex_t ledger = PTHREAD_MUTEX_INITIALIZER;
static long balance[ACCOUNTS];

static void pause_us(long us) {
  struct timespec ts = {0, us * 1000};
  nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void journal_write(int from, int to, long amount) {
  (void)from, (void)to, (void)amount;
  pause_us(100); /* the slow part: a disk write */
}

__attribute__((noinline)) static void transfer(int from, int to, long amount) {
  pthread_mutex_lock(&ledger);
  balance[from] -= amount;
  balance[to] += amount;
  journal_write(from, to, amount); /* BUG: slow I/O while everyone waits for the ledger */
  pthread_mutex_unlock(&ledger);
}

__attribute__((noinline)) static long audit(void) {
  pthread_mutex_lock(&ledger);
  long sum = 0;
  for (int i = 0; i < ACCOUNTS; i++) sum += balance[i];
  pthread_mutex_unlock(&ledger);
  return sum;
}

static void *teller(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < TRANSFERS; i++)
    transfer((int)(id + i) % ACCOUNTS, (int)(id * 7 + i * 3) % ACCOUNTS, 1 + i % 5);
  return NULL;
}

static void *auditor(void *arg) {
  long *wrong = arg;
  for (int i = 0; i < AUDITS; i++) {
    if (audit() != 0) (*wrong)++;
    pause_us(500);
  }
  return NULL;
}

int main(void) {
  threadwatch_name_lock(&ledger, "ledger"); /* a no-op without the preload */
  pthread_t tellers[TELLERS], auditors[AUDITORS];
  long wrong[AUDITORS] = {0};
  for (long i = 0; i < TELLERS; i++) pthread_create(&tellers[i], NULL, teller, (void *)i);
  for (long i = 0; i < AUDITORS; i++) pthread_create(&auditors[i], NULL, auditor, &wrong[i]);
  for (int i = 0; i < TELLERS; i++) pthread_join(tellers[i], NULL);
  for (int i = 0; i < AUDITORS; i++) pthread_join(auditors[i], NULL);
  printf("%d transfers, %d audits, %ld wrong totals\n", TELLERS * TRANSFERS, AUDITORS * AUDITS,
         wrong[0] + wrong[1]);
  return 0;
}
