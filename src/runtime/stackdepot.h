/* Stack capture with libunwind and the depot that interns each distinct stack once under a uint32 id. */
#ifndef TW_STACKDEPOT_H
#define TW_STACKDEPOT_H

#include <stdbool.h>
#include <stdint.h>

/* Interns pcs[0..n) and returns its id (never 0), or 0 when the depot is full (said once on stderr).
 * Lock-free and allocation-free after the first call; safe from any thread and from signal handlers. */
uint32_t tw_depot_put(const uintptr_t *pcs, int n);

/* Fills *pcs with the frames of `id` and returns their count; 0 for id 0 or an unknown id. */
int tw_depot_get(uint32_t id, const uintptr_t **pcs);

/* Number of distinct stacks interned and bytes of arena used. */
uint32_t tw_depot_count(void);
uint64_t tw_depot_bytes(void);

/* Around every local libunwind walk made by an application thread (async-signal-safe): fork waits
 * for the walks in flight and holds new ones back (see stackdepot.c). */
void tw_unwind_enter(void);
void tw_unwind_leave(void);
/* The fork hook: before the real fork, and after it in the parent (false) and the child (true). */
void tw_unwind_fork_prepare(void);
void tw_unwind_fork_done(bool child);

/* Whether pc lies in threadwatch's own code (set up by tw__stack_init): such frames are dropped. */
bool tw_stack_is_self(uintptr_t pc);

/* Records the address range of threadwatch's own code so captured stacks can drop our frames. */
void tw__stack_init(void);

/* Unwinds the calling thread, drops threadwatch's own frames (frame 0 is then the application's call
 * into the hook), interns the rest. Returns the depot id (0 if nothing could be captured). */
uint32_t tw_stack_capture(void);

/* The stack an earlier call at return address `pc` made with caller stack pointer `sp` had: `pc`
 * followed by the frames of the current stack that were already active then (stack pointer above
 * `sp`). For a lock taken earlier in a function that is still running, this is exactly its stack.
 * Slower than tw_stack_capture (steps frame by frame); for slow paths only. */
uint32_t tw_stack_capture_earlier(uintptr_t pc, uintptr_t sp);

#endif
