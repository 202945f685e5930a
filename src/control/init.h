/* Process lifecycle: one-time initialisation, the exit path and its status rule, fork (hazards 7,
 * 13). The entry points that drive it (constructor, destructor, exit, fork, the thread-exit
 * destructor) are in hooks/. */
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
/* The process is going to exit with `status` (exit() or return from main). */
void tw__note_exit_status(int status);
/* An application thread has left (its TSD destructor ran): when main called pthread_exit and this
 * was the last one, the reporter leaves too. */
void tw__note_thread_left(void);

/* The exit path, once, on whichever thread ends the process (our destructor, after the
 * application's atexit handlers and static destructors): the last drain, the exit-time reports.
 * Returns the status the process must exit with instead of its own, or -1 to keep its own. */
int tw__finish(void);

/* fork(): called around the real call, on the forking thread, guard held. */
void tw__fork_prepare(void);
void tw__fork_parent(void);
void tw__fork_child(void);

#endif
