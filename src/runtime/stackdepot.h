/* Stack capture of the calling thread (call-path cache, else libgcc's unwinder) and the depot that
 * interns each distinct stack once under a uint32 id. */
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
 * for the walks in flight and holds new ones back (see stackdepot.c). enter returns false when the
 * walk must not be made (the gate stayed closed too long, or this child may have inherited a walk
 * cut by a fork): then there is no leave. */
bool tw_unwind_enter(void);
void tw_unwind_leave(void);
/* The fork prepare handler: closes the gate and waits (bounded) for the walks in flight; false if
 * one is still in flight. After the fork: in the parent (child false) and the child (true), with
 * what prepare returned. */
bool tw_unwind_fork_prepare(void);
void tw_unwind_fork_done(bool child, bool walks_done);
/* No walk in flight (in a child no handler saw: none was cut by the fork). */
bool tw_unwind_idle(void);

/* Whether pc lies in threadwatch's own code (set up by tw__stack_init): such frames are dropped. */
bool tw_stack_is_self(uintptr_t pc);

/* Whether pc lies in an unwinder's code (libunwind, libgcc_s). A lock that an unwinder takes for
 * its own tables, when the program walks its stack itself (C++ exceptions, backtrace()), is not
 * watched: the tool's stack capture for that acquisition could walk with the same unwinder and wait
 * for the lock its own thread holds. */
bool tw_pc_in_unwinder(uintptr_t pc);

/* Records the address range of threadwatch's own code so captured stacks can drop our frames. */
void tw__stack_init(void);

/* threadwatch's own text (set by tw__stack_init; 0 before). */
extern uintptr_t tw__self_lo, tw__self_hi;
static inline bool tw_pc_is_self(uintptr_t pc) { return pc >= tw__self_lo && pc < tw__self_hi; }

/* The application's call into the hook that is running on this thread: the return address, the
 * caller's stack pointer at the call (the hook's CFA) and its frame pointer, found by following
 * threadwatch's own frame pointers. Our own frames all keep frame pointers (TW_LIB_FLAGS): fp[0]
 * is the caller's frame pointer, fp[1] the return address; the first return address outside our
 * code is the application's call into a hook, and only our frames are walked, so no foreign rbp
 * is ever followed. A few loads per frame of ours (inline: a hook is 2-4 frames deep). False when
 * no such frame is found (tool code called from elsewhere). Call it from hook code only. */
static inline __attribute__((always_inline)) bool tw_stack_site(uintptr_t *pc, uintptr_t *sp,
                                                               uintptr_t *bp) {
  uintptr_t *fp = (uintptr_t *)__builtin_frame_address(0);
  uintptr_t lo = tw__self_lo, hi = tw__self_hi;
  for (int hops = 0; hops < 16; hops++) {
    uintptr_t ret = fp[1];
    if (ret < lo || ret >= hi) {
      *pc = ret;
      *sp = (uintptr_t)(fp + 2);
      *bp = fp[0];
      return ret != 0;
    }
    uintptr_t *up = (uintptr_t *)fp[0];
    if (up <= fp || (uintptr_t)up - (uintptr_t)fp > (1u << 20)) break;
    fp = up;
  }
  return false;
}

/* Unwinds the calling thread, drops threadwatch's own frames (frame 0 is then the application's call
 * into the hook), interns the rest. Returns the depot id (0 if nothing could be captured). A path
 * captured before (callsite.h) costs one compare per frame; a new one a walk of ~0.5 us per frame,
 * with no system call. */
uint32_t tw_stack_capture(void);

/* The stack an earlier call at return address `pc` made with caller stack pointer `sp` had: `pc`
 * followed by the frames of the current stack that were already active then (stack pointer above
 * `sp`). For a lock taken earlier in a function that is still running, this is exactly its stack.
 * Costs what tw_stack_capture costs. */
uint32_t tw_stack_capture_earlier(uintptr_t pc, uintptr_t sp);

#endif
