/* Thread-leak and thread-surge accounting, grouped by creation stack. */
#ifndef TW_LEAKS_H
#define TW_LEAKS_H

#include <stdbool.h>
#include <stdint.h>

/* At exit: one thread-leak report per group of threads neither joined nor detached (and detached
 * threads still alive, with THREADWATCH_LEAK_DETACHED=1). Threads that threadwatch_check_leaks
 * already reported are not reported again. Analysis lock held. */
void tw_leaks_check_exit(void);

/* Which threads a threadwatch_check_leaks() looks at. */
struct tw_leak_scope {
  uint64_t after_id;  /* only threads with a larger id (created after the mark); 0: all */
  uint64_t except_id; /* never this thread (the caller); 0: none */
  uint64_t waited_ms; /* how long the check waited, for the message */
};

/* The leaks of a check right now, without reporting them: threads in scope still alive (joinable
 * or detached), or ended but neither joined nor detached. Any thread; takes the registry lock only.
 * Returns the count, or -ENOMEM. */
long tw_leaks_count(const struct tw_leak_scope *scope);

/* Reports the leaks of a check, grouped by creation stack and state as at exit, each thread at most
 * once per process (one reported by an earlier check is counted again but not reported). Returns
 * the count (suppressed groups not included), or -ENOMEM. Analysis lock held. */
long tw_leaks_check(const struct tw_leak_scope *scope);

/* THREADWATCH_MAX_THREADS was just passed with `live` threads alive: groups the live threads by
 * creation stack now, while they exist (once per process, on the creating thread, guard held); the
 * thread-surge report is written on the next tick. */
void tw_leaks_note_surge(uint64_t live);

/* Detector-table row: the tick writes a captured surge report; a forked child may report again. */
void tw_leaks_tick(uint64_t now_ns, bool final);
void tw_leaks_after_fork_child(bool consistent);

#endif
