/* Process lifecycle: one-time initialisation, the exit path and its status rule, fork (hazards 7,
 * 13). Initialisation is driven by the first entry point (hooks/: a hook, the constructor, the
 * API); fork and exit by handlers it registers with glibc. */
#ifndef TW_CONTROL_INIT_H
#define TW_CONTROL_INIT_H

#include <stdbool.h>

#include "base/atomic.h"

/* Runs the one-time initialisation if it has not run yet (hooks can run before our constructor). */
void tw__init_slow(void);
extern _Atomic int tw__init_done;
static inline void tw__ensure_init(void) {
  if (__builtin_expect(!atomic_load_explicit(&tw__init_done, memory_order_acquire), 0)) tw__init_slow();
}

/* The calling thread (main or not) is about to call the real pthread_exit. */
void tw__note_pthread_exit(void);
/* An application thread has left (its TSD destructor ran): when main called pthread_exit and this
 * was the last one, the reporter leaves too. */
void tw__note_thread_left(void);

/* fork is followed by atfork handlers that tw__init_slow registers, and the exit path by an exit
 * handler it registers (control/init.c): no entry point of hooks/ is needed for either. */

#endif
