/*
 * A process-shared mutex held by another process: the parent (single-threaded) waits to lock a
 * PTHREAD_PROCESS_SHARED mutex in shared memory that its forked child holds for 500 ms. The
 * owner is a thread of another process, not an exited thread of this one: the parent is not
 * asleep for good, and no report is due.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tw_test.h"

struct shared {
  pthread_mutex_t mu;
  _Atomic int child_holds;
};

int main(void) {
  struct shared *sh =
      mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  TW_CHECK(sh != MAP_FAILED);
  pthread_mutexattr_t attr;
  TW_OK(pthread_mutexattr_init(&attr));
  TW_OK(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED));
  TW_OK(pthread_mutex_init(&sh->mu, &attr));
  pid_t child = fork();
  TW_CHECK(child >= 0);
  if (child == 0) {
    TW_OK(pthread_mutex_lock(&sh->mu));
    atomic_store(&sh->child_holds, 1);
    tw_test_sleep_ms(500); /* several of the parent's reporter ticks */
    TW_OK(pthread_mutex_unlock(&sh->mu));
    _exit(0);
  }
  unsigned long spins = 0;
  while (!atomic_load(&sh->child_holds)) tw_test_pause(&spins, "child to take the mutex", 0, 0);
  TW_OK(pthread_mutex_lock(&sh->mu)); /* blocks until the child unlocks */
  TW_OK(pthread_mutex_unlock(&sh->mu));
  int status;
  TW_CHECK(waitpid(child, &status, 0) == child);
  TW_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
