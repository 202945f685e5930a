/* Every fixed bound of the tool in one place, each with its reason. */
#ifndef TW_LIMITS_H
#define TW_LIMITS_H

/* Events per thread ring. A power of two. 1024 x 32 bytes = 32 KiB per thread: enough for a burst of
 * new lock-order edges between two reporter ticks; a full ring drops (counted) and never blocks. */
#define TW_RING_SLOTS 1024u

/* Frames kept per stack. Deeper stacks keep their innermost frames. */
#define TW_STACK_MAX_FRAMES 48

/* Stack depot: bucket count (power of two) and the arena that holds the frames. 64 MiB of address
 * space is reserved but only touched as stacks arrive; when it is full, new stacks are not interned
 * (id 0, "stack unavailable") and one message says so. */
#define TW_DEPOT_BUCKETS (1u << 16)
#define TW_DEPOT_ARENA_BYTES (64u << 20)

/* fds below this are tracked in a flat table (one byte load per read/write hook). Higher fds are
 * never tracked; stated in the README's limitations. */
#define TW_MAX_FDS 65536

/* Held locks kept inline per thread before the stack spills to the heap (no fixed cap). */
#define TW_HELD_INLINE 32

/* Threads listed in one report; the rest are counted in "omitted_threads". */
#define TW_REPORT_MAX_THREADS 8

/* Creation-stack groups listed in one thread-surge report. */
#define TW_REPORT_MAX_GROUPS 5

/* Bytes of one formatted report line or block before it is flushed in pieces. */
#define TW_OUT_BUF_BYTES (64u << 10)

/* Reporter tick. Deadlocks are reported within one tick, stalls within THREADWATCH_STALL + one tick. */
#define TW_TICK_NS (100ull * 1000 * 1000)

#endif
