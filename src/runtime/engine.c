/* The analysis lock and the reporter-running flag (see engine.h). */
#include "runtime/engine.h"

#include <pthread.h>
#include <string.h>

#include "base/real.h"

static pthread_mutex_t analysis = PTHREAD_MUTEX_INITIALIZER;
_Atomic int tw__engine_started;

void tw_analysis_lock(void) { TW_REAL_FN(pthread_mutex_lock)(&analysis); }
void tw_analysis_unlock(void) { TW_REAL_FN(pthread_mutex_unlock)(&analysis); }

void tw_engine_fork_prepare(void) { tw_analysis_lock(); }
void tw_engine_fork_parent(void) { tw_analysis_unlock(); }

void tw_engine_after_fork_child(void) {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&analysis, &fresh, sizeof(fresh));
  tw_store_relaxed(&tw__engine_started, 0); /* no reporter thread in the child until it is needed */
}
