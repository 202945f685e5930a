/* Knowing, without a system call, that this process is a copy made by a fork that did not pass
 * through our atfork handlers (_Fork, clone without CLONE_VM, a raw fork system call): one page
 * mapped with MADV_WIPEONFORK holds a mark, and every fork child that copies memory gets that page
 * zeroed, while a vfork or CLONE_VM child shares it (and must not touch the parent's state).
 * Tool code checks the mark before it takes a tool lock or walks tool state; the first check in a
 * copied child runs the reset the control layer registered (the locks the parent's other threads
 * held are made new, their records dropped). */
#ifndef TW_RUNTIME_FORK_H
#define TW_RUNTIME_FORK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/atomic.h"
#include "base/tw.h"

/* The mark: 1 in a process whose tool state is its own; 0 in a copied child not yet reset. NULL
 * before tw_fork_mark_init (or where the kernel has no MADV_WIPEONFORK: then only forks through
 * the atfork handlers are seen). */
extern _Atomic uint64_t *_Atomic tw__fork_mark;

/* Maps the page and sets the mark (once, at initialisation). */
void tw_fork_mark_init(void);

/* The reset to run in a copied child (the control layer's). `consistent` is false here: the fork
 * happened at any moment, so state another thread was changing may be half-changed. */
void tw_fork_set_reset(void (*reset)(bool consistent));

/* Runs the reset once in a copied child, then sets the mark. */
void tw__fork_detected(void);

/* Sets the mark again (after the atfork child handler's own reset). */
void tw_fork_mark_set(void);

/* Whether this is a vfork child, or a clone(CLONE_VM) one, running on its parent's memory: it must
 * change nothing of the tool's state (it is the parent's). A system call (getpid): for slow paths. */
bool tw_fork_in_shared_child(void);

/* The check: one load. Call it before taking a tool lock or reading shared tool state. */
static inline void tw_fork_check(void) {
  _Atomic uint64_t *m = tw_load_relaxed(&tw__fork_mark);
  if (tw_unlikely(m != NULL && tw_load_relaxed(m) == 0)) tw__fork_detected();
}

#endif
