/* The call-path cache: the depot id of a stack, found again from its innermost frame without
 * unwinding, by checking that the return addresses it names are where they were on the stack. */
#ifndef TW_CALLSITE_H
#define TW_CALLSITE_H

#include <stdint.h>

/* A call path seen once: frame 0 is a call made at return address pc0 with caller stack pointer sp0
 * (the CFA of the callee); frame i > 0 is a caller whose return address pcs[i] was stored at
 * sp0 + off[i] - 8 (x86-64: a call pushes it just below the caller's stack pointer). When the same
 * pc0 is called again with the same return addresses at the same offsets from the new sp0, every
 * frame is the same function called from the same place: the stack is the same (frames whose size
 * varies, alloca, only make a lookup miss). One check per frame, no unwinding, no system call. */

/* The stack starting at (pc0, sp0) on the calling thread's own stack [stack_lo, stack_hi) (the cache
 * never reads at or above stack_hi). 0 when no cached path matches, when the bounds are unknown (0),
 * or when sp0 is not inside them (an alternate signal stack). Async-signal-safe and lock-free. */
uint32_t tw_callsite_find_local(uintptr_t pc0, uintptr_t sp0, uintptr_t stack_lo,
                                uintptr_t stack_hi);

/* The same for a stack of another thread of this process (its memory read with one
 * process_vm_readv, which fails cleanly on unmapped memory). Reporter side. */
uint32_t tw_callsite_find_remote(uintptr_t pc0, uintptr_t sp0);

/* Remembers that the stack `stack` (depot id, n frames, pcs[0] == pc0) has its frames i > 0 at
 * offsets off[i] from sp0. A signal frame or an offset that does not fit makes it not cached. */
void tw_callsite_put(uintptr_t pc0, uint32_t stack, const uintptr_t *pcs, const uint32_t *off,
                     int n);

/* Bytes of stack above sp0 a remote check reads at most (deeper paths are not checked remotely). */
#define TW_CALLSITE_REMOTE_SPAN (64u << 10)

#endif
