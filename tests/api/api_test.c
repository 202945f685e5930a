/* Exercises every function of include/threadwatch.h, one section per process:
 *
 *   api_test SECTION preload|bare
 *
 * tests/api/run.sh runs each section with and without LD_PRELOAD=libthreadwatch.so and says which
 * (the program must not trust threadwatch_active() to know: a broken lookup would make every check
 * a no-op that passes). Each check prints "PASS: section: what" or "FAIL: section: what" with the
 * values seen; the exit status is 1 when a check failed (run.sh also checks the exit status the
 * preload gives and the JSON reports). Threads are ordered by observing them (a counter under a
 * mutex, /proc), never by sleeping; the only sleeps are durations a check is about. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "threadwatch.h"

#define NOINLINE __attribute__((noinline))

/* Defined in api_tu2.c: the same calls from a second translation unit (its own lookup cache). */
unsigned long api_tu2_thread_count(void);
int api_tu2_active(void);

static bool preloaded;
static const char *section;
static int failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  printf("%s: %s: %s\n", ok ? "PASS" : "FAIL", section, what);
  fflush(stdout);
  failures += !ok;
}

/* got must be `with` under the preload and `without` without it. */
static void expect_long(const char *what, long got, long with, long without) {
  long want = preloaded ? with : without;
  check(got == want, "%s = %ld (expected %ld)", what, got, want);
}

static void must(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "api_test: %s failed: %s\n", what, strerror(rc));
    exit(99);
  }
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) continue;
}

static const char *errno_name(int e) {
  switch (e) {
    case 0: return "0";
    case ENOSPC: return "ENOSPC";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case ENOENT: return "ENOENT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "other";
  }
}

/* --- threads the sections start ------------------------------------------------------------- */

/* A gate: threads wait on it until it opens; `arrived` counts those inside the wait. */
struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int arrived;
  bool open;
};
#define GATE_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false}

static void gate_wait(struct gate *g) {
  pthread_mutex_lock(&g->mu);
  g->arrived++;
  while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

/* Returns once n threads are inside gate_wait's pthread_cond_wait: a thread that has counted
 * itself holds the mutex until the wait releases it, so holding the mutex here with the count at n
 * means all n are waiting. */
static void gate_await(struct gate *g, int n) {
  for (;;) {
    pthread_mutex_lock(&g->mu);
    int a = g->arrived;
    pthread_mutex_unlock(&g->mu);
    if (a >= n) return;
    sleep_ms(1);
  }
}

static void gate_open(struct gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = true;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static struct gate never = GATE_INIT; /* never opened: threads on it are leaked for good */

static NOINLINE void *leaky_main(void *arg) {
  (void)arg;
  gate_wait(&never);
  return NULL;
}

static NOINLINE pthread_t leaky_start(void) {
  pthread_t t;
  must(pthread_create(&t, NULL, leaky_main, NULL), "pthread_create");
  return t;
}

static void *gate_main(void *arg) {
  gate_wait(arg);
  return NULL;
}

/* --- sections ------------------------------------------------------------------------------- */

static void basics(void) {
  expect_long("threadwatch_active()", threadwatch_active(), 1, 0);
  const char *v = threadwatch_version();
  if (preloaded) check(v && strcmp(v, "0.1.0") == 0, "threadwatch_version() = %s", v ? v : "NULL");
  else check(v == NULL, "threadwatch_version() = %s (expected NULL)", v ? v : "NULL");
  expect_long("threadwatch_thread_count() at start", (long)threadwatch_thread_count(), 1, 0);
  expect_long("active from a second translation unit", api_tu2_active(), 1, 0);

  struct gate g = GATE_INIT;
  pthread_t t[3];
  for (int i = 0; i < 3; i++) must(pthread_create(&t[i], NULL, gate_main, &g), "pthread_create");
  expect_long("threadwatch_thread_count() with 3 more threads", (long)threadwatch_thread_count(), 4,
              0);
  gate_await(&g, 3);
  expect_long("thread count from a second translation unit", (long)api_tu2_thread_count(), 4, 0);
  gate_open(&g);
  for (int i = 0; i < 3; i++) must(pthread_join(t[i], NULL), "pthread_join");
  expect_long("threadwatch_thread_count() after the joins", (long)threadwatch_thread_count(), 1, 0);

  /* errno is left alone by every call (the results are checked in their own sections). */
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  static long watched;
  static pthread_mutex_t named = PTHREAD_MUTEX_INITIALIZER;
#define KEEPS_ERRNO(call)                                                  \
  do {                                                                     \
    errno = 4242;                                                          \
    (void)(call);                                                          \
    check(errno == 4242, "%s keeps errno (errno = %d)", #call, errno);     \
  } while (0)
  KEEPS_ERRNO(threadwatch_active());
  KEEPS_ERRNO(threadwatch_version());
  KEEPS_ERRNO(threadwatch_thread_count());
  KEEPS_ERRNO(threadwatch_watch(&watched, sizeof(watched)));
  KEEPS_ERRNO(threadwatch_unwatch(&watched));
  KEEPS_ERRNO(threadwatch_unwatch(&watched)); /* not watched (any more): an error, still errno kept */
  threadwatch_mark_t mark = 0;
  KEEPS_ERRNO(mark = threadwatch_mark());
  KEEPS_ERRNO(threadwatch_check_leaks(mark, 0));
  KEEPS_ERRNO(threadwatch_dump(fd));
  KEEPS_ERRNO(threadwatch_name_lock(&named, "named"));
  KEEPS_ERRNO(threadwatch_name_lock(&named, NULL));
  close(fd);
}

/* One leaked thread: found, counted again by a second check, reported once (run.sh checks the JSON
 * and that the exit status is THREADWATCH_EXITCODE). */
static void leak_found(void) {
  threadwatch_mark_t mark = threadwatch_mark();
  check(preloaded ? mark != 0 : mark == 0, "threadwatch_mark() = %#llx", (unsigned long long)mark);
  leaky_start();
  gate_await(&never, 1);
  errno = 4242;
  int n = threadwatch_check_leaks(mark, 50);
  expect_long("threadwatch_check_leaks(mark, 50) with a blocked thread", n, 1, 0);
  check(errno == 4242, "threadwatch_check_leaks keeps errno (errno = %d)", errno);
  expect_long("a second threadwatch_check_leaks(mark, 0) counts it again", threadwatch_check_leaks(mark, 0),
              1, 0);
}

/* The same code without the leak: threads joined, nothing found, no report, no waiting. */
static void leak_fixed(void) {
  threadwatch_mark_t mark = threadwatch_mark();
  struct gate g = GATE_INIT;
  pthread_t t[2];
  for (int i = 0; i < 2; i++) must(pthread_create(&t[i], NULL, gate_main, &g), "pthread_create");
  gate_open(&g);
  for (int i = 0; i < 2; i++) must(pthread_join(t[i], NULL), "pthread_join");
  long t0 = now_ms();
  expect_long("threadwatch_check_leaks(mark, 5000) after the joins", threadwatch_check_leaks(mark, 5000),
              0, 0);
  long took = now_ms() - t0;
  check(took < 1000, "it returned at once: %ld ms (no thread to wait for)", took);
}

static void *short_lived(void *arg) {
  (void)arg;
  sleep_ms(150);
  return NULL;
}

/* A detached thread that ends within the timeout is not a leak; the check returns when it ends. */
static void leak_timeout_ends(void) {
  threadwatch_mark_t mark = threadwatch_mark();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  must(pthread_create(&t, &attr, short_lived, NULL), "pthread_create");
  pthread_attr_destroy(&attr);
  long t0 = now_ms();
  int n = threadwatch_check_leaks(mark, 5000);
  long took = now_ms() - t0;
  expect_long("threadwatch_check_leaks(mark, 5000) with a thread ending after 150 ms", n, 0, 0);
  if (preloaded) check(took >= 100 && took < 4000, "it waited for the thread to end: %ld ms", took);
  else check(took < 100, "without the preload it returned at once: %ld ms", took);
}

/* A thread that does not end within the timeout is a leak, and the timeout bounds the wait. */
static void leak_timeout_bound(void) {
  threadwatch_mark_t mark = threadwatch_mark();
  leaky_start();
  long t0 = now_ms();
  int n = threadwatch_check_leaks(mark, 300);
  long took = now_ms() - t0;
  expect_long("threadwatch_check_leaks(mark, 300) with a blocked thread", n, 1, 0);
  if (preloaded) check(took >= 295 && took < 2300, "it waited the timeout: %ld ms", took);
  else check(took < 100, "without the preload it returned at once: %ld ms", took);
}

static NOINLINE void *nested_parent(void *arg) {
  (void)arg;
  leaky_start(); /* the grandchild: created by a thread that was itself created after the mark */
  return NULL;
}

static NOINLINE void nested_spawn(void) {
  pthread_t p;
  must(pthread_create(&p, NULL, nested_parent, NULL), "pthread_create");
  must(pthread_join(p, NULL), "pthread_join");
}

static void leak_nested(void) {
  threadwatch_mark_t mark = threadwatch_mark();
  nested_spawn();
  expect_long("threadwatch_check_leaks: a thread created by a thread created after the mark",
              threadwatch_check_leaks(mark, 50), 1, 0);
}

/* A detached thread still alive is a leak of the check; at exit (even with
 * THREADWATCH_LEAK_DETACHED=1, which run.sh sets) it is not reported again. */
static void leak_detached(void) {
  threadwatch_mark_t mark = threadwatch_mark();
  pthread_t t = leaky_start();
  must(pthread_detach(t), "pthread_detach");
  expect_long("threadwatch_check_leaks: a detached thread still alive", threadwatch_check_leaks(mark, 50),
              1, 0);
}

static void *returns_at_once(void *arg) {
  *(volatile pid_t *)arg = (pid_t)syscall(SYS_gettid);
  return NULL;
}

/* A joinable thread that has ended but was not joined is a leak (what: exited). */
static void leak_exited(void) {
  threadwatch_mark_t mark = threadwatch_mark();
  volatile pid_t tid = 0;
  pthread_t t;
  must(pthread_create(&t, NULL, returns_at_once, (void *)&tid), "pthread_create");
  while (tid == 0) sleep_ms(1);
  while (syscall(SYS_tgkill, getpid(), tid, 0) == 0) sleep_ms(1); /* until it is gone */
  expect_long("threadwatch_check_leaks: an ended thread never joined", threadwatch_check_leaks(mark, 50),
              1, 0);
  must(pthread_join(t, NULL), "pthread_join"); /* joined after all: nothing more at exit */
  expect_long("threadwatch_check_leaks after the join", threadwatch_check_leaks(mark, 0), 0, 0);
}

static threadwatch_mark_t caller_mark;
static int caller_result = -7;

static void *checker_main(void *arg) {
  (void)arg;
  caller_result = threadwatch_check_leaks(caller_mark, 0);
  return NULL;
}

/* A thread created after the mark that calls the check does not count itself. */
static void leak_caller(void) {
  caller_mark = threadwatch_mark();
  pthread_t t;
  must(pthread_create(&t, NULL, checker_main, NULL), "pthread_create");
  must(pthread_join(t, NULL), "pthread_join");
  expect_long("threadwatch_check_leaks called by a thread created after the mark", caller_result, 0,
              0);
}

/* Mark 0 is the start of the process: every thread created so far counts. */
static void leak_since_start(void) {
  leaky_start();
  expect_long("threadwatch_check_leaks(0, 50)", threadwatch_check_leaks(0, 50), 1, 0);
}

/* A mark taken before fork(): in the child (whose thread ids start again) every thread is new. */
static void leak_fork(void) {
  struct gate g = GATE_INIT;
  pthread_t t[3];
  for (int i = 0; i < 3; i++) must(pthread_create(&t[i], NULL, gate_main, &g), "pthread_create");
  threadwatch_mark_t mark = threadwatch_mark(); /* after T2..T4: a child's T2 has a smaller id */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    leaky_start();
    expect_long("in a forked child, threadwatch_check_leaks(parent's mark)",
                threadwatch_check_leaks(mark, 50), 1, 0);
    fflush(stdout);
    _exit(failures ? 1 : 0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's checks passed (status %#x)",
        status);
  gate_open(&g);
  for (int i = 0; i < 3; i++) must(pthread_join(t[i], NULL), "pthread_join");
  expect_long("in the parent, threadwatch_check_leaks(mark) after the joins",
              threadwatch_check_leaks(mark, 0), 0, 0);
}

static struct gate dump_gate = GATE_INIT;

static NOINLINE void *dump_sleeper(void *arg) {
  (void)arg;
  gate_wait(&dump_gate);
  return NULL;
}

/* One creation site for all of them (a loop of unknown length is not unrolled): one group. */
static NOINLINE void start_sleepers(pthread_t *t, int n) {
  for (int i = 0; i < n; i++) must(pthread_create(&t[i], NULL, dump_sleeper, NULL), "pthread_create");
}

static NOINLINE void dump_section(void) {
  pthread_t t[2];
  start_sleepers(t, 2);
  gate_await(&dump_gate, 2);
  const char *path = getenv("API_TEST_DUMP");
  int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
  check(fd >= 0, "API_TEST_DUMP names a file we can write");
  expect_long("threadwatch_dump(fd)", threadwatch_dump(fd), 0, 0);
  close(fd);
  errno = 0;
  int rc = threadwatch_dump(-1);
  int e = errno;
  expect_long("threadwatch_dump(-1)", rc, -1, 0);
  if (preloaded) check(e == EBADF, "threadwatch_dump(-1) sets errno to EBADF (errno = %d)", e);
  gate_open(&dump_gate);
  for (int i = 0; i < 2; i++) must(pthread_join(t[i], NULL), "pthread_join");
}

static pthread_mutex_t alpha = PTHREAD_MUTEX_INITIALIZER, beta = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t epsilon = PTHREAD_MUTEX_INITIALIZER, zeta = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t gamma_lock = PTHREAD_MUTEX_INITIALIZER;

static NOINLINE void lock_pair(pthread_mutex_t *first, pthread_mutex_t *second) {
  pthread_mutex_lock(first);
  pthread_mutex_lock(second);
  pthread_mutex_unlock(second);
  pthread_mutex_unlock(first);
}

/* Same as lock_pair at other call sites: cycles found at the same sites are one report (the later
 * ones are folded into it), so the second pair of names needs sites of its own. The counter keeps
 * the compiler from merging the two identical functions. */
static volatile int named_pairs;
static NOINLINE void lock_named_pair(pthread_mutex_t *first, pthread_mutex_t *second) {
  pthread_mutex_lock(first);
  pthread_mutex_lock(second);
  named_pairs++;
  pthread_mutex_unlock(second);
  pthread_mutex_unlock(first);
}

static NOINLINE void *stall_waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&gamma_lock);
  pthread_mutex_unlock(&gamma_lock);
  return NULL;
}

/* Lines of THREADWATCH_JSON that contain `needle`. */
static int json_lines_with(const char *needle) {
  const char *path = getenv("THREADWATCH_JSON");
  FILE *f = path ? fopen(path, "r") : NULL;
  if (!f) return 0;
  static char line[1 << 16];
  int n = 0;
  while (fgets(line, sizeof(line), f)) n += strstr(line, needle) != NULL;
  fclose(f);
  return n;
}

/* Names in lock-order cycles (cut at 47 bytes, control bytes replaced, forgotten, renamed) and in
 * a stall report's wait object; run.sh reads them in the JSON. */
static void name_lock(void) {
  expect_long("threadwatch_name_lock(&alpha, \"alpha lock\")",
              threadwatch_name_lock(&alpha, "alpha lock"), 0, 0);
  expect_long("threadwatch_name_lock(&beta, <56 bytes>)",
              threadwatch_name_lock(&beta, "beta lock with a name far longer than forty-seven bytes"),
              0, 0);
  expect_long("threadwatch_name_lock(&epsilon, \"epsilon\")", threadwatch_name_lock(&epsilon, "epsilon"),
              0, 0);
  expect_long("threadwatch_name_lock(&epsilon, NULL) forgets", threadwatch_name_lock(&epsilon, NULL), 0,
              0);
  expect_long("threadwatch_name_lock(&zeta, \"zeta\\nlock\")", threadwatch_name_lock(&zeta, "zeta\nlock"),
              0, 0);
  expect_long("threadwatch_name_lock(&gamma, \"temp\")", threadwatch_name_lock(&gamma_lock, "temp"), 0,
              0);
  expect_long("threadwatch_name_lock(&gamma, \"gamma lock\") renames",
              threadwatch_name_lock(&gamma_lock, "gamma lock"), 0, 0);
  expect_long("threadwatch_name_lock(NULL, \"x\")", threadwatch_name_lock(NULL, "x"), EINVAL, 0);
  expect_long("threadwatch_name_lock(&unnamed, NULL) (nothing to forget)",
              threadwatch_name_lock(&never.mu, NULL), 0, 0);

  lock_pair(&alpha, &beta);
  lock_pair(&beta, &alpha);
  lock_named_pair(&epsilon, &zeta);
  lock_named_pair(&zeta, &epsilon);

  /* A stall on gamma: held here while a thread waits for it (THREADWATCH_STALL is short). */
  pthread_mutex_lock(&gamma_lock);
  pthread_t t;
  must(pthread_create(&t, NULL, stall_waiter, NULL), "pthread_create");
  if (preloaded) {
    long t0 = now_ms();
    while (json_lines_with("\"kind\":\"stall\"") == 0 && now_ms() - t0 < 20000) sleep_ms(5);
    check(json_lines_with("\"kind\":\"stall\"") > 0, "a stall report came while gamma was held");
  }
  pthread_mutex_unlock(&gamma_lock);
  must(pthread_join(t, NULL), "pthread_join");
}

/* A self-relock of a named mutex: the deadlock report names it (THREADWATCH_ON_DEADLOCK=abort, set
 * by run.sh, ends the process after the report). */
static pthread_mutex_t delta = PTHREAD_MUTEX_INITIALIZER;

static void name_deadlock(void) {
  expect_long("threadwatch_name_lock(&delta, \"delta lock\")", threadwatch_name_lock(&delta, "delta lock"),
              0, 0);
  if (!preloaded) return; /* without the detector the relock would hang for good */
  pthread_mutex_lock(&delta);
  pthread_mutex_lock(&delta); /* never returns: the report, then abort */
  check(false, "the self-relock returned");
}

/* Return values as the header documents them (the race module decides which of them). */
static long watched_a, watched_b;
static int unwatched;

/* What the header documents for threadwatch_watch on an aligned 8-byte variable (EINVAL is for
 * bad arguments only). */
static bool documented_watch_result(int rc) {
  return rc == 0 || rc == ENOSPC || rc == EPERM || rc == EACCES || rc == EOPNOTSUPP ||
         rc == ENOENT || rc == ENOSYS || rc == ENOMEM;
}

static void watch(void) {
  int rc = threadwatch_watch(&watched_a, sizeof(watched_a));
  printf("INFO: %s: threadwatch_watch returned %s (%d)\n", section, errno_name(rc), rc);
  if (preloaded) {
    check(documented_watch_result(rc), "threadwatch_watch(&long, 8) = %s: a documented value",
          errno_name(rc));
    int u = threadwatch_unwatch(&watched_a);
    check(u == (rc == 0 ? 0 : ENOENT), "threadwatch_unwatch after a watch that returned %s = %s",
          errno_name(rc), errno_name(u));
    expect_long("threadwatch_unwatch again (not watched any more): ENOENT",
                threadwatch_unwatch(&watched_a), ENOENT, 0);
    int rn = threadwatch_watch_named(&watched_b, sizeof(watched_b), "watched b");
    check(rn == rc, "threadwatch_watch_named = %s, as threadwatch_watch", errno_name(rn));
    threadwatch_unwatch(&watched_b);
  } else {
    expect_long("threadwatch_watch(&long, 8)", rc, 0, 0);
    expect_long("threadwatch_unwatch(&long)", threadwatch_unwatch(&watched_a), 0, 0);
    expect_long("threadwatch_watch_named", threadwatch_watch_named(&watched_b, 8, "b"), 0, 0);
  }
  expect_long("threadwatch_unwatch of an address never watched", threadwatch_unwatch(&unwatched),
              ENOENT, 0);
  expect_long("threadwatch_watch(NULL, 8)", threadwatch_watch(NULL, 8), EINVAL, 0);
  expect_long("threadwatch_watch(&long, 0)", threadwatch_watch(&watched_a, 0), EINVAL, 0);
}

static const struct {
  const char *name;
  void (*fn)(void);
} sections[] = {
    {"basics", basics},
    {"leak_found", leak_found},
    {"leak_fixed", leak_fixed},
    {"leak_timeout_ends", leak_timeout_ends},
    {"leak_timeout_bound", leak_timeout_bound},
    {"leak_nested", leak_nested},
    {"leak_detached", leak_detached},
    {"leak_exited", leak_exited},
    {"leak_caller", leak_caller},
    {"leak_since_start", leak_since_start},
    {"leak_fork", leak_fork},
    {"dump", dump_section},
    {"name_lock", name_lock},
    {"name_deadlock", name_deadlock},
    {"watch", watch},
};

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) puts(sections[i].name);
    return 0;
  }
  if (argc != 3 || (strcmp(argv[2], "preload") != 0 && strcmp(argv[2], "bare") != 0)) {
    fprintf(stderr, "usage: %s SECTION preload|bare | --list\n", argv[0]);
    return 2;
  }
  preloaded = strcmp(argv[2], "preload") == 0;
  section = argv[1];
  signal(SIGPIPE, SIG_IGN);
  for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
    if (strcmp(sections[i].name, section) == 0) {
      sections[i].fn();
      return failures ? 1 : 0;
    }
  }
  fprintf(stderr, "api_test: no section %s\n", section);
  return 2;
}
