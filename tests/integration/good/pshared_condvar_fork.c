/*
 * A process-shared condvar signalled by another process: the parent (single-threaded) waits, with
 * a predicate, on a PTHREAD_PROCESS_SHARED condvar in shared memory; its forked child sets the flag
 * and signals 500 ms after the parent is seen waiting. A condvar in shared memory can be signalled
 * from outside the process: the parent is not "all asleep", and no report is due.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tw_test.h"

struct shared {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool ready;
  _Atomic int parent_waiting;
};

int main(void) {
  struct shared *sh =
      mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  TW_CHECK(sh != MAP_FAILED);
  pthread_mutexattr_t ma;
  pthread_condattr_t ca;
  TW_OK(pthread_mutexattr_init(&ma));
  TW_OK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED));
  TW_OK(pthread_condattr_init(&ca));
  TW_OK(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED));
  TW_OK(pthread_mutex_init(&sh->mu, &ma));
  TW_OK(pthread_cond_init(&sh->cv, &ca));
  pid_t parent = getpid(), child = fork();
  TW_CHECK(child >= 0);
  if (child == 0) {
    unsigned long spins = 0;
    while (!atomic_load(&sh->parent_waiting) || tw_test_proc_state(parent) != 'S')
      tw_test_pause(&spins, "parent to wait", parent, 0);
    tw_test_sleep_ms(500); /* several of the parent's reporter ticks */
    TW_OK(pthread_mutex_lock(&sh->mu));
    sh->ready = true;
    TW_OK(pthread_cond_signal(&sh->cv));
    TW_OK(pthread_mutex_unlock(&sh->mu));
    _exit(0);
  }
  TW_OK(pthread_mutex_lock(&sh->mu));
  atomic_store(&sh->parent_waiting, 1);
  while (!sh->ready) TW_OK(pthread_cond_wait(&sh->cv, &sh->mu));
  TW_OK(pthread_mutex_unlock(&sh->mu));
  int status;
  TW_CHECK(waitpid(child, &status, 0) == child);
  TW_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
