/* The analysis lock and the reporter-running flag (see engine.h). */
#include "runtime/engine.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "base/real.h"
#include "runtime/fork.h"

static pthread_mutex_t analysis = PTHREAD_MUTEX_INITIALIZER;
_Atomic int tw__engine_started;

static bool fork_locked; /* the fork prepare handler got the lock (forking thread only) */

void tw_analysis_lock(void) {
  tw_fork_check();
  TW_REAL_FN(pthread_mutex_lock)(&analysis);
}
void tw_analysis_unlock(void) { TW_REAL_FN(pthread_mutex_unlock)(&analysis); }

bool tw_engine_fork_prepare(void) {
  tw_fork_check();
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  uint64_t ns = (uint64_t)until.tv_nsec + TW_FORK_ANALYSIS_WAIT_NS;
  until.tv_sec += (time_t)(ns / 1000000000ull);
  until.tv_nsec = (long)(ns % 1000000000ull);
  fork_locked = TW_REAL_FN(pthread_mutex_clocklock) != NULL
                    ? TW_REAL_FN(pthread_mutex_clocklock)(&analysis, CLOCK_MONOTONIC, &until) == 0
                    : TW_REAL_FN(pthread_mutex_lock)(&analysis) == 0;
  return fork_locked;
}

void tw_engine_fork_parent(void) {
  if (fork_locked) tw_analysis_unlock();
  fork_locked = false;
}

void tw_engine_after_fork_child(void) {
  fork_locked = false;
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&analysis, &fresh, sizeof(fresh));
  tw_store_relaxed(&tw__engine_started, 0); /* no reporter thread in the child until it is needed */
}
