/* Process lifecycle: initialisation, thread attach/exit, fork, and the exit paths (hazards 7, 13). */
#ifndef TW_INIT_H
#define TW_INIT_H

#include <stdbool.h>

#include "registry.h"

/* Runs the one-time initialisation if it has not run yet (hooks can run before our constructor). */
void tw__init_slow(void);
extern _Atomic int tw__init_done;
static inline void tw__ensure_init(void) {
  if (__builtin_expect(!atomic_load_explicit(&tw__init_done, memory_order_acquire), 0)) tw__init_slow();
}

/* Binds a record to the calling thread so our TSD destructor sees it leave. */
void tw__thread_attach(struct tw_thread *self);

/* The calling thread (main or not) is about to call the real pthread_exit. */
void tw__note_pthread_exit(void);
/* The process is going to exit with `status` (exit() or return from main). */
void tw__note_exit_status(int status);

/* fork(): called around the real call, on the forking thread, guard held. */
void tw__fork_prepare(void);
void tw__fork_parent(void);
void tw__fork_child(void);

#endif
