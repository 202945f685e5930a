/* threadwatch public API: for programs and tests that want to ask the preloaded detector things
 * (how many threads, did this test leak one, dump every thread) or tell it things (watch this
 * variable, call this lock "accounts").
 *
 * Usable whether or not libthreadwatch.so is preloaded. Every function is a static inline wrapper:
 * it finds the library's function table (the data symbol `threadwatch__api`, looked up once per
 * translation unit with dlsym) and calls through it. Without the preload there is no table and
 * every call is a cheap no-op that returns 0 (NULL for threadwatch_version): nothing is watched,
 * no thread is counted, no leak is found, nothing is written.
 *
 * Why dlsym and not weak symbols: a weak undefined function in an executable that does not link
 * the library is resolved at link time. Code compiled without -fPIE/-fPIC and linked -no-pie takes
 * the function's address as an absolute 0, so the preloaded library is never called (and a direct
 * call of a weak function is a call to address 0). Looking the table up at run time works the
 * same for PIE, non-PIE, C and C++, whatever the linker.
 *
 * Linking: nothing to link. On glibc before 2.34, dlsym lives in libdl: add -ldl there (CMake:
 * ${CMAKE_DL_LIBS}).
 *
 * Common rules of every function below:
 *  - Thread-safe: any thread may call any of them at any time (not from signal handlers: the first
 *    call in a translation unit calls dlsym, which is not async-signal-safe).
 *  - errno is preserved, except where a function says it sets it.
 *  - The first call in each translation unit costs one dlsym (microseconds); after that, without
 *    the library, a call costs one load and a compare.
 *  - No tool lock is held when the function returns; none of them calls back into the program.
 *
 * See docs/api.md for examples (a cmocka test that fails on a leaked thread, like Go's goleak). */
#ifndef THREADWATCH_H
#define THREADWATCH_H

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define THREADWATCH_VERSION_MAJOR 0
#define THREADWATCH_VERSION_MINOR 1

/* An opaque point in the life of the process: threads created after it are "new" to
 * threadwatch_check_leaks. 0 means the start of the process. */
typedef uint64_t threadwatch_mark_t;

/* --- implementation details: not API, may change between versions -------------------------- */

/* The library's function table (src/api.c). Fields are only ever added at the end; `size` tells
 * how many the loaded library has, so a newer header with an older library sees the new functions
 * as absent (the wrappers then return their no-op value). */
struct threadwatch__api {
  unsigned long size; /* sizeof(struct threadwatch__api) in the library */
  const char *(*version)(void);
  unsigned long (*thread_count)(void);
  int (*watch)(const void *ptr, size_t len, const char *label);
  int (*unwatch)(const void *ptr);
  threadwatch_mark_t (*mark)(void);
  int (*check_leaks)(threadwatch_mark_t mark, unsigned int timeout_ms);
  int (*dump)(int fd);
  int (*name_lock)(const void *lock, const char *name);
  int (*check_leaks_text)(threadwatch_mark_t mark, unsigned int timeout_ms, char *buf, size_t len);
};

#if defined(__cplusplus) && __cplusplus >= 201103L
#define THREADWATCH__CAST(type, e) (static_cast<type>(e))
#define THREADWATCH__NULL nullptr
#elif defined(__cplusplus)
#define THREADWATCH__CAST(type, e) (static_cast<type>(e))
#define THREADWATCH__NULL 0
#else
#define THREADWATCH__CAST(type, e) ((type)(e))
#define THREADWATCH__NULL ((void *)0)
#endif

/* glibc's (and musl's) RTLD_DEFAULT, which <dlfcn.h> defines only with _GNU_SOURCE. */
#ifdef RTLD_DEFAULT
#define THREADWATCH__RTLD_DEFAULT RTLD_DEFAULT
#else
#define THREADWATCH__RTLD_DEFAULT THREADWATCH__NULL
#endif

/* The table, or NULL without the library. Looked up once per translation unit and cached (two
 * threads racing the first call both look it up and store the same value). */
static inline const struct threadwatch__api *threadwatch__get(void) {
  static const void *cache; /* NULL: not looked up yet; &cache: the library is not loaded */
  const void *p = __atomic_load_n(&cache, __ATOMIC_ACQUIRE);
  if (__builtin_expect(p == THREADWATCH__NULL, 0)) {
    p = dlsym(THREADWATCH__RTLD_DEFAULT, "threadwatch__api");
    if (p == THREADWATCH__NULL) p = &cache;
    __atomic_store_n(&cache, p, __ATOMIC_RELEASE);
  }
  return p == &cache ? THREADWATCH__NULL : THREADWATCH__CAST(const struct threadwatch__api *, p);
}

/* Whether the loaded library's table has field f. */
#define THREADWATCH__HAS(a, f) \
  ((a) != THREADWATCH__NULL && \
   (a)->size >= offsetof(struct threadwatch__api, f) + sizeof((a)->f) && (a)->f != THREADWATCH__NULL)

/* --- the API -------------------------------------------------------------------------------- */

/* Non-zero when libthreadwatch.so is loaded into this process (preloaded), 0 otherwise.
 * Cost: see the common rules (one load and a compare after the first call). */
static inline int threadwatch_active(void) { return threadwatch__get() != THREADWATCH__NULL; }

/* The version of the loaded library, "MAJOR.MINOR.PATCH" (a static string); NULL without it. */
static inline const char *threadwatch_version(void) {
  const struct threadwatch__api *a = threadwatch__get();
  return THREADWATCH__HAS(a, version) ? a->version() : THREADWATCH__NULL;
}

/* Live application threads right now, the calling thread and the main thread included, Go's
 * runtime.NumGoroutine. threadwatch's own threads are never counted. A thread counts from its
 * pthread_create until it ends (a thread that has ended but waits to be joined is not live).
 * Threads the program did not create through pthread_create (the main thread, threads of other
 * runtimes) count once they have made a pthread call.
 * Returns 0 without the library (with it, the count is at least 1).
 * Cost: takes the registry lock briefly (a few hundred nanoseconds). */
static inline unsigned long threadwatch_thread_count(void) {
  const struct threadwatch__api *a = threadwatch__get();
  return THREADWATCH__HAS(a, thread_count) ? a->thread_count() : 0;
}

/* Watches [ptr, ptr + len) for race-suspect accesses from now on, in every thread, including
 * threads created later (like naming it in THREADWATCH_WATCH); `label` names it in reports (copied;
 * NULL or "": the address or the symbol it lies in is used). Two accesses from different threads,
 * one of them a write, with no common lock and nothing ordering them, make a `race-suspect` report.
 * Hardware watchpoints: the range is cut into aligned pieces of 1, 2, 4 or 8 bytes, one debug
 * register each, and x86-64 has four per thread (an aligned 8-byte variable needs one).
 * Returns 0, or an errno value (errno itself is left unchanged):
 *   EINVAL        NULL ptr, len 0, or a range that wraps around;
 *   ENOSPC        not enough debug registers left for it (the text log says so);
 *   EPERM, EACCES perf_event_open is not permitted here (perf_event_paranoid, seccomp, container);
 *   EOPNOTSUPP, ENOENT, ENOSYS  this kernel or CPU (or hypervisor) has no hardware breakpoints;
 *   ENOMEM.
 * When race watching cannot work here, one line on the text log says so and why, once.
 * Returns 0 without the library (nothing is watched).
 * Cost: a system call per application thread (perf_event_open): call it at set-up, not in loops. */
static inline int threadwatch_watch_named(const void *ptr, size_t len, const char *label) {
  const struct threadwatch__api *a = threadwatch__get();
  return THREADWATCH__HAS(a, watch) ? a->watch(ptr, len, label) : 0;
}

/* threadwatch_watch_named without a label. */
static inline int threadwatch_watch(const void *ptr, size_t len) {
  return threadwatch_watch_named(ptr, len, THREADWATCH__NULL);
}

/* Stops watching the range that starts at ptr (as given to threadwatch_watch). Returns 0, or ENOENT
 * when no range starting there is watched (also after a watch that failed). errno is left unchanged.
 * Returns 0 without the library. */
static inline int threadwatch_unwatch(const void *ptr) {
  const struct threadwatch__api *a = threadwatch__get();
  return THREADWATCH__HAS(a, unwatch) ? a->unwatch(ptr) : 0;
}

/* A mark for threadwatch_check_leaks: threads created after this call are "new". Take it at the
 * start of a test. The value is opaque (it also tells whether it was taken in this process: in a
 * child made by fork() after the mark, every thread of the child is new).
 * Returns 0 without the library (0 also means "the start of the process").
 * Cost: copies the thread registry (microseconds per thousand threads). */
static inline threadwatch_mark_t threadwatch_mark(void) {
  const struct threadwatch__api *a = threadwatch__get();
  return THREADWATCH__HAS(a, mark) ? a->mark() : 0;
}

/* Go's goleak.VerifyNone for C: waits up to timeout_ms for the threads created after `mark` to
 * end, then reports each one still there as a `thread-leak` report (text log and THREADWATCH_JSON,
 * the same format as the exit-time leak reports: grouped by creation stack with a count), and
 * returns how many there are. A test asserts that it returns 0.
 *
 * A thread created after the mark is a leak here when, after the wait:
 *  - it is still alive: running or blocked, joinable or detached (a detached thread that outlives
 *    the test is a leak of the test, as goleak sees it; at exit, detached threads are only reported
 *    with THREADWATCH_LEAK_DETACHED=1);
 *  - or it has ended but was neither joined nor detached (its resources are never freed).
 * Threads created by threads created after the mark count too (everything created after it). The
 * calling thread is never counted. Threads whose report a THREADWATCH_SUPPRESS entry matches are
 * neither reported nor counted.
 *
 * Each leaked thread is reported once: a later check that finds it again counts it (the return
 * value stays honest) but does not report it again, and the exit-time leak check does not report
 * it a second time either. A leak report is a report like any other: the process then exits with
 * THREADWATCH_EXITCODE (default 66) when it would otherwise exit 0 (THREADWATCH_EXITCODE=0 keeps
 * the program's own status).
 *
 * timeout_ms is an upper bound, not a delay: the check returns as soon as no new thread is left
 * (it looks every 1 to 10 ms); 0 checks once, now.
 * Returns the number of leaked threads (>= 0), or -1 with errno set (ENOMEM) when the check could
 * not be made. Returns 0 without the library.
 * Cost: a registry copy per look, and for a leak, symbolising its stacks (milliseconds). It may wait
 * for a report another thread is writing. Not for hot paths. */
static inline int threadwatch_check_leaks(threadwatch_mark_t mark, unsigned int timeout_ms) {
  const struct threadwatch__api *a = threadwatch__get();
  return THREADWATCH__HAS(a, check_leaks) ? a->check_leaks(mark, timeout_ms) : 0;
}

/* threadwatch_check_leaks that also hands back the evidence, for a test framework's failure
 * message (goleak prints the goroutines in the test failure, not on stderr): the same check, the
 * same reports (text log, THREADWATCH_JSON, THREADWATCH_SARIF) and the same return value, and the
 * text of the reports this call made is copied into buf (NUL-terminated, at most len bytes; a text
 * that does not fit is cut and ends with "...\n"). Leaked threads an earlier check already reported
 * are counted but not reported again; a line in buf says how many. Nothing leaked: buf is "".
 *   char why[8192];
 *   EXPECT_EQ(threadwatch_check_leaks_text(mark, 100, why, sizeof(why)), 0) << why;
 * buf may be NULL when len is 0. Returns as threadwatch_check_leaks; without the library, 0 with
 * buf set to "". */
static inline int threadwatch_check_leaks_text(threadwatch_mark_t mark, unsigned int timeout_ms,
                                               char *buf, size_t len) {
  const struct threadwatch__api *a = threadwatch__get();
  if (THREADWATCH__HAS(a, check_leaks_text)) return a->check_leaks_text(mark, timeout_ms, buf, len);
  if (buf != THREADWATCH__NULL && len > 0) buf[0] = '\0';
  return THREADWATCH__HAS(a, check_leaks) ? a->check_leaks(mark, timeout_ms) : 0;
}

/* Writes the thread dump to fd, Go's runtime.Stack(all): every live application thread grouped by
 * identical state and stacks with a count, each group with its state (what it waits on and for how
 * long), its stack and its creation stack. The same text as `threadwatch dump PID` (docs/dump.md).
 * The calling thread is listed too, with its stack: a short-lived tool thread (invisible, like the
 * reporter) makes the dump while the caller waits for it. Not a cancellation point.
 * Returns 0, or -1 with errno set: EBADF for a bad fd, the write's error (EPIPE, ENOSPC, ...).
 * Returns 0 and writes nothing without the library.
 * Cost: a thread creation and symbolising every distinct stack (milliseconds); it may wait for a
 * report being written. */
static inline int threadwatch_dump(int fd) {
  const struct threadwatch__api *a = threadwatch__get();
  return THREADWATCH__HAS(a, dump) ? a->dump(fd) : 0;
}

/* Gives the lock (or condvar) at `lock` a name used in every report that mentions it: the locks of
 * a lock-order cycle, what a blocked thread waits on (`mutex 0x55d0c0 "accounts"`), the locks a
 * thread held. The name is copied (at most 47 bytes are kept, control bytes become '?'); naming a
 * lock again renames it; NULL or "" forgets the name. The name belongs to the address: before the
 * memory of a named lock is reused for another object, forget it.
 * Returns 0, or an errno value (errno itself is left unchanged): EINVAL for a NULL lock, ENOSPC when
 * 16384 addresses already have names, ENOMEM. Returns 0 without the library.
 * Cost: takes the analysis lock briefly (it may wait for a report being written). */
static inline int threadwatch_name_lock(const void *lock, const char *name) {
  const struct threadwatch__api *a = threadwatch__get();
  return THREADWATCH__HAS(a, name_lock) ? a->name_lock(lock, name) : 0;
}

#ifdef __cplusplus
}
#endif

#endif
