/* Every fixed bound of the tool in one place, each with its reason. */
#ifndef TW_LIMITS_H
#define TW_LIMITS_H

/* Events per thread ring. Powers of two. A thread's ring starts with TW_RING_FIRST_SLOTS (one page
 * with the header, mapped on its first event) and doubles each time it fills, up to TW_RING_SLOTS
 * (160 KiB): a thread that sends few events costs one page. A full ring at its largest nudges the
 * reporter and waits at most TW_RING_FULL_WAIT_NS, then drops (counted); it never blocks longer. */
#define TW_RING_FIRST_SLOTS 64u
#define TW_RING_SLOTS 4096u
#define TW_RING_FULL_WAIT_NS (2ull * 1000 * 1000)

/* Per-thread cache of lock-order edges already sent (direct-mapped) and of acquisition sites whose
 * stack was captured: TW_EDGE_CACHE_FIRST_SLOTS at first, doubled when entries keep being evicted,
 * up to TW_EDGE_CACHE_SLOTS (88 bytes a slot: 11 KiB per thread at most). Behind it, one table for
 * the whole process of TW_EDGE_KNOWN_SLOTS fingerprints in buckets of 4 (8 bytes each, 1 MiB of
 * address space, touched as used). A miss in
 * both costs one event; an eviction only re-sends an edge. Powers of two. */
#define TW_EDGE_CACHE_FIRST_SLOTS 16u
#define TW_EDGE_CACHE_SLOTS 128u
#define TW_EDGE_KNOWN_SLOTS (1u << 17)

/* Held locks an acquisition sends a direct lock-order edge from (the innermost ones; lockdep's
 * chain depth is 48). Locks further down are reached through the edges sent when the locks above
 * them were taken, plus "skip" edges from 2^k deep, so an acquisition costs O(this + log held). */
#define TW_EDGE_DEPTH 8u

/* Bits of the filter that says which lock addresses ever appeared in a lock-order edge (a destroy or
 * re-init of such a lock retires its graph node). 2^20 bits = 128 KiB. */
#define TW_LOCK_BLOOM_BITS (1u << 20)

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

/* Distinct reader and writer threads remembered per pipe/eventfd (the wait-for graph: a blocked
 * reader waits for the writers). Past this many, "many threads" can end the wait. */
#define TW_FD_FACT_THREADS 4

/* Semaphores and futex addresses whose posters/wakers are remembered (runtime/feeders.h). Past
 * this many, the oldest object's facts are forgotten (its waits then count as "anyone could"). */
#define TW_FEEDERS_MAX 4096
/* Tracked fds per thread whose reads and writes were already told to the reporter (a direct-mapped
 * set by fd number): a thread that alternates reads and writes, or serves a few pipes, sends one
 * fact per fd and direction, not one per call. A power of two. */
#define TW_IO_SEEN_SLOTS 8

/* Nesting levels of watched blocking calls (a signal handler's I/O inside a wait) whose call site
 * is kept, so that a longjmp out of them ends them. Deeper levels are rare; a jump out of one leaves
 * the thread's wait state as it was. */
#define TW_WAIT_NEST 4

/* Held locks published with a blocking wait (the wait-for graph needs the rwlocks a blocked thread
 * holds; reports list them). A thread holding more publishes its innermost ones. */
#define TW_WAIT_HELD 8

/* fds the tool itself needs (libunwind's probe pipe, the control socket) are moved to this number
 * or above, so the application's own opens get the numbers they would get without us. */
#define TW_TOOL_FD_BASE 900

/* Held locks kept inline per thread before the stack spills to the heap (no fixed cap). */
#define TW_HELD_INLINE 32

/* Summaries of reaped (joined/detached and exited) threads kept for reports that name them later,
 * e.g. a lock-order cycle formed by threads long joined. Oldest forgotten first. */
#define TW_GRAVEYARD 4096

/* Threads listed in one report; the rest are counted in "omitted_threads". */
/* Locks listed per thread in a race-suspect or exit-holding-locks report. */
#define TW_REPORT_MAX_HELD 8
#define TW_REPORT_MAX_THREADS 8

/* Locks of a lock-order cycle shown in one report (longer cycles are cut, and say so). */
#define TW_REPORT_MAX_CYCLE 16

/* Threads alive at exit from one creation site, in the same state and place, that make their
 * thread-leak report an error rather than a warning: a pile-up (one thread per request), not a
 * pool sized to the machine or one thread per role. */
#define TW_LEAK_PILEUP 16

/* Running threads whose stacks are read at exit for the leak report (each read costs a few hundred
 * system calls). */
#define TW_LEAK_LOCATE_MAX 64

/* thread-growth: a creation site whose live threads rose in each of this many consecutive periods
 * (THREADWATCH_GROWTH), to at least TW_GROWTH_MIN_THREADS, is reported. A pool reaches its size in
 * a period or two and stays; a ramp-up that keeps going for six periods is worth a warning. The
 * floor keeps pools sized to a small machine and one-thread-per-role sites out. */
#define TW_GROWTH_PERIODS 6
#define TW_GROWTH_MIN_THREADS 16
/* Creation sites followed by the growth check; new sites past it are not followed (said once). */
#define TW_GROWTH_SITES 4096

/* Contention profiles (THREADWATCH_PROFILE): records of (kind, wait class, stack, object), a power
 * of two (16384 x 48 bytes, untouched until profiling is on); locks with waiters being timed at
 * once for the mutex profile (4096 x 32 bytes); slots probed from a key's home before an event is
 * dropped (counted, said once). */
#define TW_PROFILE_RECORDS (1u << 14)
#define TW_PROFILE_LOCKS (1u << 12)
#define TW_PROFILE_PROBE 32

/* Creation-stack groups listed in one thread-surge report. */
#define TW_REPORT_MAX_GROUPS 5

/* Bytes of one formatted report line or block before it is flushed in pieces. */
#define TW_OUT_BUF_BYTES (64u << 10)

/* Reporter tick. Deadlocks are reported within one tick, stalls within THREADWATCH_STALL + one tick.
 * After a busy drain the reporter comes back after TW_TICK_BUSY_NS instead. */
#define TW_TICK_NS (100ull * 1000 * 1000)
#define TW_TICK_BUSY_NS (1ull * 1000 * 1000)

/* A thread about to relock its own mutex waits this long at most for the reporter to write the
 * self-relock report before it blocks (forever: the wait costs nothing it would not lose anyway). */
#define TW_SELF_RELOCK_WAIT_NS (1000ull * 1000 * 1000)

/* Before a deadlock is reported, the blocked threads must still be in the same waits this much
 * later: a thread seen blocked may have been just leaving its wait. */
#define TW_DEADLOCK_CONFIRM_NS (20ull * 1000 * 1000)

/* How long a stack capture waits for a fork in progress before it goes without a stack, and how
 * long a fork waits for the captures in flight (then its child makes no captures). */
#define TW_UNWIND_GATE_WAIT_NS (200ull * 1000 * 1000)

/* How long a fork waits for the analysis lock (held by the reporter while it writes a report,
 * which a full pipe or a stopped terminal can block) before it goes on without it; the child then
 * starts its analysis state afresh. */
#define TW_FORK_ANALYSIS_WAIT_NS (1000ull * 1000 * 1000)

/* The largest suppressions file read (a file of hand-written rules: a bigger one is a mistake, such
 * as THREADWATCH_SUPPRESS=/dev/zero or a log file named by accident). */
#define TW_SUPPRESS_MAX_BYTES (1u << 20)

/* Lines the tool says on stderr outside reports (base/msg.h), per process; then one line says the
 * rest are not shown. */
#define TW_MSG_MAX 100

#endif
