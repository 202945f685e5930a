/* This process's profiles, Go's three views of threads that wait, as report/profile.h data:
 *   threads  one sample per live thread (value 1), labels: state, wait call, object, thread name,
 *            thread id, creation site (Go's goroutine profile);
 *   block    where threads waited: contentions and total delay per waiter stack (lock waits, and with
 *            THREADWATCH_PROFILE=block also condvar, join, pipe and eventfd waits);
 *   mutex    who made them wait: contentions and delay charged to the lock holder's unlock stack;
 * and the contention table (mutrace's exit-time view: the top locks by total wait, with the stacks
 * that waited and the stacks that held). Rendered as pprof or folded stacks, the table as text or
 * JSON. Analysis lock held (the reporter: the dump socket; the exit path). */
#ifndef TW_REPORT_PROFILES_H
#define TW_REPORT_PROFILES_H

#include <stdbool.h>

#include "base/out.h"
#include "report/profile.h"

enum tw_profile_kind { TW_PROFILE_THREADS = 0, TW_PROFILE_BLOCK, TW_PROFILE_MUTEX, TW_PROFILE_KINDS };

/* "threads", "block", "mutex"; and back (-1 for another word). */
const char *tw_profile_kind_name(enum tw_profile_kind k);
int tw_profile_kind_parse(const char *s);

/* Fills p (tw_profile_free it after) with profile k of this process now. 0 or -ENOMEM. */
int tw_profiles_build(struct tw_profile *p, enum tw_profile_kind k);

/* Profile k as gzipped pprof (folded false) or folded stacks of its default value (true), to o.
 * 0 or -errno. */
int tw_profiles_write(struct tw_out *o, enum tw_profile_kind k, bool folded);

/* Locks listed by the contention table, and stacks listed per lock on each side. */
#define TW_CONTENTION_TOP_LOCKS 10
#define TW_CONTENTION_TOP_STACKS 3

/* The contention table: text (a headline "==PID== threadwatch: contention: ...", one row per lock,
 * then each lock's waiter and holder stacks) or one JSON object on one line ({"contention": {...}},
 * docs/profiles.md). Says so when no lock was contended. */
void tw_contention_table(struct tw_out *o, bool json);

#endif
