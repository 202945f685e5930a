/* A report as plain data, no logic: detectors fill a struct tw_report (with the helpers of
 * report/build.h) and hand it to report/emit.h, which renders it with every writer of the writer
 * table (report/writer.h). */
#ifndef TW_REPORT_H
#define TW_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/limits.h"
#include "runtime/registry.h"

/* SLEEPING: in nanosleep, sleep, usleep, clock_nanosleep, thrd_sleep: it will wake by itself (never
 * part of a deadlock nor a stall), but reports and dumps show the sleep with its stack. */
enum tw_tstate { TW_TS_RUNNING = 0, TW_TS_BLOCKED = 1, TW_TS_EXITED = 2, TW_TS_SLEEPING = 3 };

/* Whether a thread in this state is in a watched call (it has a `wait`). */
static inline bool tw_tstate_waits(enum tw_tstate s) { return s == TW_TS_BLOCKED || s == TW_TS_SLEEPING; }

/* Which identifier a wait's JSON carries: `fd` (pipes, eventfds, sockets, an epoll instance),
 * `address` (an object in memory), or neither (poll/select sets, sleeps). */
static inline bool tw_wait_json_fd(enum tw_call c) {
  enum tw_wait_class k = tw_call_class(c);
  return k == TW_WC_FD || k == TW_WC_SOCK ||
         (c >= TW_CALL_EPOLL_WAIT && c <= TW_CALL_EPOLL_PWAIT2_TIMED);
}
static inline bool tw_wait_json_address(enum tw_call c) {
  enum tw_wait_class k = tw_call_class(c);
  return !tw_wait_json_fd(c) && k != TW_WC_POLL && k != TW_WC_SLEEP;
}

struct tw_report_thread {
  uint64_t id, parent;
  int32_t tid;
  char name[16];
  enum tw_tstate state;
  struct tw_wait_snap wait; /* when blocked */
  uint64_t wait_ns;         /* how long it has been blocked */
  char object[160];         /* what it waits for, described ("pipe fd 3", "mutex 0x...",
                             * "3 fds (listening 0.0.0.0:11211, eventfd 7, pipe 9)") */
  char note[96];            /* a fact about the object worth a sentence ("no thread has written to it") */
  uint32_t stack;           /* where it is now (blocked threads), 0 if unknown */
  uint32_t created_at;
  uint8_t nheld_by;         /* lock waits: the threads holding the lock (deadlock, stall), if known */
  uint64_t held_by[4];
  const char *access;       /* race-suspect: "read" or "write" (then `stack` is where); NULL if none */
  uint8_t nlocks_held;      /* the locks it held then (race-suspect, exit-holding-locks) */
  struct tw_report_held {
    uintptr_t addr;
    char name[48];          /* threadwatch_name_lock() name, "" if none */
  } locks_held[TW_REPORT_MAX_HELD];
};

struct tw_report_group {
  uint32_t count;
  uint32_t created_at;
};

/* A lock named in a report: M1, M2, ... in the order of the cycle. */
struct tw_report_lock {
  uintptr_t addr;
  uint8_t kind;          /* enum tw_lock_kind (lockgraph.h) */
  uint32_t first_seen;   /* stack where it was first seen taken (or initialised) */
  char name[48];         /* threadwatch_name_lock() name, "" if none */
  char symbol[64];       /* the global variable it lies in ("accounts+40"), "" if none */
};

/* One edge of a lock-order cycle: thread took lock `to` while holding lock `from`. */
struct tw_report_edge {
  uint32_t from, to;     /* indices into locks[] */
  uint64_t thread;
  uint8_t from_mode, to_mode; /* enum tw_lock_mode */
  uint32_t stack_to;     /* where `to` was acquired */
  uint32_t stack_from;   /* where `from` had been acquired */
  uint32_t seen;         /* distinct observations (threads, gates) of this order */
};

struct tw_report {
  const char *kind; /* contract names: thread-leak, thread-surge, ... */
  const char *what;
  const char *severity; /* "error" or "warning"; NULL: the kind's default (report/emit.c) */
  bool fails;           /* THREADWATCH_FAIL_ON names it: it changes the exit status (emit sets it) */
  char fingerprint[17]; /* report/fingerprint.h, 16 hex digits (emit sets it) */
  char message[512];
  uint32_t count;   /* threads the report stands for */
  bool same_stacks; /* every listed thread has the same stacks: the text shows the first only */
  uint32_t nthreads;
  struct tw_report_thread threads[TW_REPORT_MAX_THREADS];
  uint32_t ncontext; /* the last ncontext listed threads are context (a stalled lock's holder, a
                      * join's target), not counted in `count` */
  uint32_t nmore;   /* ids of further threads, listed by number only */
  uint64_t more_ids[16];
  uint32_t ngroups;
  struct tw_report_group groups[TW_REPORT_MAX_GROUPS];
  uint64_t limit;   /* thread-surge: THREADWATCH_MAX_THREADS */
  uint32_t ncounts; /* thread-growth: the site's live threads, one period apart, oldest first */
  uint32_t counts[TW_GROWTH_PERIODS + 1];
  uint64_t period_ns; /*   and the period (THREADWATCH_GROWTH) */
  uint32_t nlocks, nedges; /* lock-order-cycle: the cycle, in order */
  struct tw_report_lock locks[TW_REPORT_MAX_CYCLE];
  struct tw_report_edge edges[TW_REPORT_MAX_CYCLE];
  uint32_t cycle_len;      /* locks in the whole cycle (may exceed TW_REPORT_MAX_CYCLE) */
  char hint[256];          /* one line of advice, "" if none */
  uint32_t locked_at;      /* self-relock: where the thread first took the lock */
  uint64_t threshold_ns;   /* stall: THREADWATCH_STALL (0: not a stall report) */
  uint64_t signalled_by;   /* lost-wakeup: the thread whose signal found no waiter */
  uint32_t signalled_at;   /*   and where it signalled */
  char object[128];        /* misuse, race-suspect: the object it is about, described; "" if none */
  const char *previous_what; /* misuse: the earlier event that makes it wrong ("destroyed", "locked",
                              * "joined", ...), NULL if none; */
  uint64_t previous_by;      /*   the thread that did it (0 if unknown) */
  uint32_t previous_at;      /*   and where */
  uint64_t dropped; /* events lost to full rings before this report */
};

#endif
