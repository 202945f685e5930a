/* Fidelity test: every call that libthreadwatch hooks must return exactly what the real call
 * returns, with errno exactly as the real call left it (DESIGN.md hazard 3).
 *
 * The program exercises each hooked call in success and error cases and prints one deterministic
 * line per check:
 *
 *     name: ret=<ret> errno=<errno-name>[ key=value ...]
 *
 * errno is set to SENTINEL (printed as "SENTINEL") before every call, so a hook that clobbers errno
 * on success shows up too. Results of pthread_* calls are error numbers and are printed by name
 * ("0", "EBUSY", ...). File descriptors are printed as "fd" (or "newfd"/">=min"), never as numbers,
 * and no pointers, pids or timings are printed, so the output is the same from run to run and with
 * or without the preload. tests/fidelity/run.sh runs it both ways and diffs the two outputs.
 *
 * Usage: fidelity [SECTION...]   (no argument: all sections; --list prints the section names)
 *
 * Each check also carries the result glibc is expected to give. A check whose result differs from
 * that expectation prints an "UNEXPECTED" note on stderr (the stdout line is unchanged), which
 * catches a wrong assumption in this test on a new glibc; it never changes the exit status.
 *
 * Threads are ordered with pipes ("gates"), joins, mutexes and condition variables, never with
 * sleep(). The only sleeps are 1-2 ms polls (waiting for a thread to be inside a blocking read()
 * before a signal is sent, or to have left the kernel), and none of them can change a printed
 * outcome. Calls that a broken hook could turn into a hang are run through run_guarded(), which
 * reports "ret=HUNG" after GUARD_SECONDS instead of stopping the run.
 *
 * Build: cc -std=c11 -O1 -g -Wall -Wextra -pthread -D_GNU_SOURCE fidelity.c -o fidelity
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <semaphore.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <threads.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Called directly so that the __read_chk hook is exercised whatever the fortify level. */
extern ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);

#define SENTINEL 12345 /* errno before every call; no real call sets it */
#define ANY (-1)       /* expectation: any errno is fine (glibc internals may set one) */
#define BAD_CLOCK ((clockid_t)12345)
#define BAD_NSEC 2000000000L
#define HUNG (-424242) /* result of a guarded call that did not return within GUARD_SECONDS */
#define GUARD_SECONDS 10

/* ---------------------------------------------------------------------------------------------- */
/* Output */

static int g_checks;
static int g_unexpected;
static const char *g_prefix = ""; /* "fork.child." inside the forked child */

/* Returns one of a few rotating static buffers (only the main thread formats). */
static char *fmt(const char *f, ...) {
  static char bufs[16][160];
  static unsigned next;
  char *b = bufs[next++ % 16];
  va_list ap;
  va_start(ap, f);
  vsnprintf(b, sizeof bufs[0], f, ap);
  va_end(ap);
  return b;
}

static const char *ename(long e) {
  if (e == SENTINEL)
    return "SENTINEL";
  if (e == HUNG)
    return "HUNG";
  if (e == 0)
    return "0";
  const char *n = (e > 0 && e < INT_MAX) ? strerrorname_np((int)e) : NULL;
  return n ? n : fmt("%ld", e);
}

static const char *num(long v) {
  return fmt("%ld", v);
}

/* A result recorded right after a call: the return value and errno as the call left it. */
struct res {
  long ret;
  int err;
};

#define RCALL(r, expr)      \
  do {                      \
    errno = SENTINEL;       \
    (r).ret = (long)(expr); \
    (r).err = errno;        \
  } while (0)

/* Prints one check line; compares it with the expectation (want_err ANY = don't care, want_extra
 * NULL = don't care) and notes a difference on stderr. */
static void check(const char *name, const char *ret, int err, const char *extra,
                  const char *want_ret, int want_err, const char *want_extra) {
  g_checks++;
  printf("%s%s: ret=%s errno=%s%s%s\n", g_prefix, name, ret, ename(err), *extra ? " " : "", extra);
  if (strcmp(ret, want_ret) != 0 || (want_err != ANY && err != want_err) ||
      (want_extra && strcmp(extra, want_extra) != 0)) {
    g_unexpected++;
    fprintf(stderr, "fidelity: UNEXPECTED %s%s: got ret=%s errno=%s %s; want ret=%s errno=%s %s\n",
            g_prefix, name, ret, ename(err), extra, want_ret,
            want_err == ANY ? "any" : ename(want_err), want_extra ? want_extra : "");
  }
}

/* pthread-style result (an error number), errno expected untouched. */
static void rep_pt(const char *name, struct res r, int want, const char *extra,
                   const char *want_extra) {
  check(name, ename(r.ret), r.err, extra, ename(want), SENTINEL, want_extra);
}

/* syscall-style result (-1 and errno on failure). */
static void rep_sys(const char *name, struct res r, long want, int want_err, const char *extra,
                    const char *want_extra) {
  check(name, num(r.ret), r.err, extra, num(want), want_err, want_extra);
}

/* A call returning a new fd: printed as "fd" when >= 0 (numbers may differ under the preload). */
static void rep_fd(const char *name, struct res r, int want_ok, int want_err) {
  check(name, r.ret >= 0 ? "fd" : num(r.ret), r.err, "", want_ok ? "fd" : "-1", want_err, "");
}

static struct res g; /* result of the last main-thread call */

#define PT(name, expr, want)       \
  do {                             \
    RCALL(g, expr);                \
    rep_pt(name, g, want, "", ""); \
  } while (0)
#define SYS(name, expr, want, werr)       \
  do {                                    \
    RCALL(g, expr);                       \
    rep_sys(name, g, want, werr, "", ""); \
  } while (0)
#define FD(name, expr, want_ok, werr) \
  do {                                \
    RCALL(g, expr);                   \
    rep_fd(name, g, want_ok, werr);   \
  } while (0)

static void die(const char *what) {
  fprintf(stderr, "fidelity: setup failed: %s: %s\n", what, strerror(errno));
  fflush(stdout);
  _exit(3);
}

/* ---------------------------------------------------------------------------------------------- */
/* Helpers (setup calls: they are not checks, and abort the run if they fail)                     */

/* A one-shot gate built on a pipe: gate_wait blocks in read() until gate_open writes a byte. */
struct gate {
  int fd[2];
};

static void gate_init(struct gate *gt) {
  if (pipe(gt->fd) != 0)
    die("pipe (gate)");
}

static void gate_open(struct gate *gt) {
  while (write(gt->fd[1], "g", 1) != 1)
    if (errno != EINTR)
      die("write (gate)");
}

static void gate_wait(struct gate *gt) {
  char c;
  while (read(gt->fd[0], &c, 1) != 1)
    if (errno != EINTR)
      die("read (gate)");
}

static void gate_close(struct gate *gt) {
  close(gt->fd[0]);
  close(gt->fd[1]);
}

static pthread_t spawn(void *(*fn)(void *), void *arg) {
  pthread_t t;
  int r = pthread_create(&t, NULL, fn, arg);
  if (r != 0) {
    errno = r;
    die("pthread_create");
  }
  return t;
}

static void *join(pthread_t t) {
  void *rv = NULL;
  int r = pthread_join(t, &rv);
  if (r != 0) {
    errno = r;
    die("pthread_join");
  }
  return rv;
}

/* Absolute time ms milliseconds from now on clock c (negative: in the past). */
static struct timespec at(clockid_t c, long ms) {
  struct timespec t;
  clock_gettime(c, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  } else if (t.tv_nsec < 0) {
    t.tv_sec--;
    t.tv_nsec += 1000000000L;
  }
  return t;
}

static struct timespec bad_nsec(void) {
  struct timespec t = at(CLOCK_REALTIME, 60000);
  t.tv_nsec = BAD_NSEC;
  return t;
}

static void nap_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

/* Returns 1 when thread tid is inside system call nr (from /proc/self/task/TID/syscall). */
static int in_syscall(pid_t tid, long nr) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  return strtol(buf, NULL, 10) == nr;
}

/* Waits (at most ~2 s) until thread tid sits in system call nr. Best effort: callers stay correct
 * if it gives up, it only makes "the signal arrives during the blocking call" likely at once. */
static void wait_in_syscall(pid_t tid, long nr) {
  for (int i = 0; i < 2000 && !in_syscall(tid, nr); i++)
    nap_ms(1);
}

/* Waits until thread tid has left the kernel (its /proc entry is gone), so glibc sees it exited. */
static void wait_thread_gone(pid_t tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d", (int)tid);
  for (int i = 0; i < 20000 && access(path, F_OK) == 0; i++)
    nap_ms(1);
}

/* Runs fn(arg) on a new thread and waits at most GUARD_SECONDS for it. Used for calls that a broken
 * hook could turn into a hang (and that return at once without the preload), so that one such bug
 * is reported as "ret=HUNG" instead of stopping the whole run. A hung thread is left behind. */
struct guarded {
  int (*fn)(void *);
  void *arg;
  struct res r;
};

static void *guarded_main(void *p) {
  struct guarded *gd = p;
  RCALL(gd->r, gd->fn(gd->arg));
  return NULL;
}

static struct res run_guarded(int (*fn)(void *), void *arg) {
  static struct guarded slots[8]; /* a hung thread keeps using its slot */
  static int next;
  struct guarded *gd = &slots[next++ % 8];
  *gd = (struct guarded){.fn = fn, .arg = arg};
  pthread_t t = spawn(guarded_main, gd);
  struct timespec ts = {0, 0};
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += GUARD_SECONDS;
  int r = pthread_timedjoin_np(t, NULL, &ts);
  if (r == 0)
    return gd->r;
  pthread_detach(t);
  return (struct res){HUNG, SENTINEL};
}

static int g_fdbase; /* a free fd range for dup2/dup3 targets, far from anything the tool uses */
static int g_badfd;  /* an fd number that is never open */

static int cloexec_of(int fd) {
  int f = fcntl(fd, F_GETFD);
  return f < 0 ? -1 : !!(f & FD_CLOEXEC);
}

/* ---------------------------------------------------------------------------------------------- */
/* Lock holder: a thread that takes a lock, then holds it until told to release it.               */

enum { H_MUTEX, H_RD, H_WR };

struct holder {
  int kind;
  void *lock;
  pthread_t th;
  struct gate locked, release;
  struct res lockr, unlockr;
};

static void *holder_main(void *p) {
  struct holder *h = p;
  if (h->kind == H_MUTEX)
    RCALL(h->lockr, pthread_mutex_lock(h->lock));
  else if (h->kind == H_RD)
    RCALL(h->lockr, pthread_rwlock_rdlock(h->lock));
  else
    RCALL(h->lockr, pthread_rwlock_wrlock(h->lock));
  gate_open(&h->locked);
  gate_wait(&h->release);
  if (h->kind == H_MUTEX)
    RCALL(h->unlockr, pthread_mutex_unlock(h->lock));
  else
    RCALL(h->unlockr, pthread_rwlock_unlock(h->lock));
  return NULL;
}

static void holder_start(struct holder *h, int kind, void *lock) {
  memset(h, 0, sizeof *h);
  h->kind = kind;
  h->lock = lock;
  gate_init(&h->locked);
  gate_init(&h->release);
  h->th = spawn(holder_main, h);
  gate_wait(&h->locked);
}

/* Releases the lock, joins the holder and reports its lock and unlock results. */
static void holder_stop(struct holder *h, const char *name) {
  gate_open(&h->release);
  join(h->th);
  rep_pt(fmt("%s.holder_lock", name), h->lockr, 0, "", "");
  rep_pt(fmt("%s.holder_unlock", name), h->unlockr, 0, "", "");
  gate_close(&h->locked);
  gate_close(&h->release);
}

/* ---------------------------------------------------------------------------------------------- */
/* Threads: create, join, tryjoin, timedjoin, clockjoin, detach, exit, cancel, setname            */

static void *ret_arg(void *a) {
  return a;
}

static void *exit_42(void *a) {
  (void)a;
  pthread_exit((void *)42);
}

static void *wait_gate_ret7(void *a) {
  gate_wait(a);
  return (void *)7;
}

struct tid_arg {
  _Atomic pid_t tid;
};

static void *record_tid_ret5(void *a) {
  ((struct tid_arg *)a)->tid = gettid();
  return (void *)5;
}

struct setname_arg {
  struct res ok, toolong;
  char name[32];
  struct gate go;
};

static void *setname_self(void *p) {
  struct setname_arg *a = p;
  RCALL(a->ok, pthread_setname_np(pthread_self(), "fid-self"));
  RCALL(a->toolong, pthread_setname_np(pthread_self(), "fid-self-name-too-long"));
  pthread_getname_np(pthread_self(), a->name, sizeof a->name);
  gate_wait(&a->go);
  return NULL;
}

static void test_threads(void) {
  pthread_t t;
  void *rv;

  /* create + join, return value and pthread_exit value */
  PT("pthread_create", pthread_create(&t, NULL, ret_arg, (void *)5), 0);
  rv = NULL;
  RCALL(g, pthread_join(t, &rv));
  rep_pt("pthread_join", g, 0, fmt("retval=%ld", (long)rv), "retval=5");

  PT("pthread_create.exit42", pthread_create(&t, NULL, exit_42, NULL), 0);
  rv = NULL;
  RCALL(g, pthread_join(t, &rv));
  rep_pt("pthread_exit.join", g, 0, fmt("retval=%ld", (long)rv), "retval=42");

  PT("pthread_join.self", pthread_join(pthread_self(), NULL), EDEADLK);

  /* a running thread: tryjoin EBUSY, timed/clock joins time out */
  struct gate gt;
  gate_init(&gt);
  t = spawn(wait_gate_ret7, &gt);
  PT("pthread_tryjoin_np.running", pthread_tryjoin_np(t, &rv), EBUSY);
  struct timespec ts = at(CLOCK_REALTIME, -1000);
  PT("pthread_timedjoin_np.past", pthread_timedjoin_np(t, &rv, &ts), ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_timedjoin_np.10ms", pthread_timedjoin_np(t, &rv, &ts), ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, -1000);
  PT("pthread_clockjoin_np.mono_past", pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_clockjoin_np.mono_10ms", pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_clockjoin_np.real_10ms", pthread_clockjoin_np(t, &rv, CLOCK_REALTIME, &ts),
     ETIMEDOUT);
  /* No invalid-timeout join checks: glibc 2.36 retries the futex's EINVAL forever, so a join
   * with tv_nsec out of range spins until the thread exits. */
  PT("pthread_tryjoin_np.still_running", pthread_tryjoin_np(t, &rv), EBUSY);
  /* Let it finish, then poll tryjoin until it stops saying EBUSY: the final result is 0. Every
   * poll must leave errno alone; the first one that does not is the one reported. */
  gate_open(&gt);
  struct res last = {0, SENTINEL};
  rv = NULL;
  for (;;) {
    RCALL(g, pthread_tryjoin_np(t, &rv));
    if (g.err != SENTINEL || g.ret != EBUSY) {
      last = g;
      break;
    }
    nap_ms(1);
  }
  rep_pt("pthread_tryjoin_np.finished", last, 0, fmt("retval=%ld", (long)rv), "retval=7");
  gate_close(&gt);

  /* timedjoin / clockjoin that succeed */
  gate_init(&gt);
  t = spawn(wait_gate_ret7, &gt);
  gate_open(&gt);
  ts = at(CLOCK_REALTIME, 60000);
  rv = NULL;
  RCALL(g, pthread_timedjoin_np(t, &rv, &ts));
  rep_pt("pthread_timedjoin_np.ok", g, 0, fmt("retval=%ld", (long)rv), "retval=7");
  gate_close(&gt);

  gate_init(&gt);
  t = spawn(wait_gate_ret7, &gt);
  gate_open(&gt);
  ts = at(CLOCK_MONOTONIC, 60000);
  rv = NULL;
  RCALL(g, pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, &ts));
  rep_pt("pthread_clockjoin_np.ok", g, 0, fmt("retval=%ld", (long)rv), "retval=7");
  gate_close(&gt);

  /* detach a running thread, then detach/join it again: EINVAL while it still runs */
  struct gate gd;
  gate_init(&gd);
  t = spawn(wait_gate_ret7, &gd);
  PT("pthread_detach.running", pthread_detach(t), 0);
  PT("pthread_detach.again", pthread_detach(t), EINVAL);
  PT("pthread_join.detached", pthread_join(t, NULL), EINVAL);
  /* glibc 2.36 tests "still running" before "detached" in tryjoin. */
  PT("pthread_tryjoin_np.detached", pthread_tryjoin_np(t, NULL), EBUSY);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_timedjoin_np.detached", pthread_timedjoin_np(t, NULL, &ts), EINVAL);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_clockjoin_np.detached", pthread_clockjoin_np(t, NULL, CLOCK_MONOTONIC, &ts), EINVAL);
  gate_open(&gd); /* it exits on its own; t is not used again */

  /* created detached */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  PT("pthread_attr_setdetachstate.invalid", pthread_attr_setdetachstate(&attr, 99), EINVAL);
  PT("pthread_attr_setdetachstate", pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
  struct gate gd2;
  gate_init(&gd2);
  PT("pthread_create.detached", pthread_create(&t, &attr, wait_gate_ret7, &gd2), 0);
  PT("pthread_detach.created_detached", pthread_detach(t), EINVAL);
  PT("pthread_join.created_detached", pthread_join(t, NULL), EINVAL);
  gate_open(&gd2);
  pthread_attr_destroy(&attr);

  /* a failing create: a stack no machine can map */
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, (size_t)1 << 50);
  RCALL(g, pthread_create(&t, &attr, ret_arg, NULL));
  check("pthread_create.huge_stack", ename(g.ret), g.err, "", "EAGAIN", ANY, "");
  pthread_attr_destroy(&attr);

  /* detach and cancel of a thread that has exited but was not joined: both 0 (glibc >= 2.34). There
   * are no ESRCH checks: for a handle that is still valid (not yet joined) glibc >= 2.34 never
   * returns ESRCH from the hooked calls, and using a joined handle is undefined behaviour. */
  struct tid_arg ta = {0};
  t = spawn(record_tid_ret5, &ta);
  while (ta.tid == 0)
    nap_ms(1);
  wait_thread_gone(ta.tid);
  PT("pthread_detach.exited", pthread_detach(t), 0);

  ta.tid = 0;
  t = spawn(record_tid_ret5, &ta);
  while (ta.tid == 0)
    nap_ms(1);
  wait_thread_gone(ta.tid);
  PT("pthread_cancel.exited", pthread_cancel(t), 0);
  rv = NULL;
  RCALL(g, pthread_join(t, &rv));
  rep_pt("pthread_join.cancelled_after_exit", g, 0, fmt("retval=%ld", (long)rv), "retval=5");

  /* setname: another thread, then a thread naming itself */
  gate_init(&gt);
  t = spawn(wait_gate_ret7, &gt);
  PT("pthread_setname_np.other", pthread_setname_np(t, "fid-other"), 0);
  char name[32] = "";
  pthread_getname_np(t, name, sizeof name);
  check("pthread_getname_np.other", "0", SENTINEL, fmt("name=%s", name), "0", SENTINEL,
        "name=fid-other");
  PT("pthread_setname_np.other_too_long", pthread_setname_np(t, "fid-other-name-too-long"), ERANGE);
  gate_open(&gt);
  join(t);
  gate_close(&gt);

  struct setname_arg sa;
  memset(&sa, 0, sizeof sa);
  gate_init(&sa.go);
  t = spawn(setname_self, &sa);
  gate_open(&sa.go);
  join(t);
  rep_pt("pthread_setname_np.self", sa.ok, 0, fmt("name=%s", sa.name), "name=fid-self");
  rep_pt("pthread_setname_np.self_too_long", sa.toolong, ERANGE, "", "");
  gate_close(&sa.go);
}

/* ---------------------------------------------------------------------------------------------- */
/* Mutexes */

struct lock_in_thread {
  pthread_mutex_t *m;
  struct res r, r2;
  int op;
};

static void *mutex_op_thread(void *p) {
  struct lock_in_thread *a = p;
  struct timespec ts = at(CLOCK_REALTIME, 60000);
  switch (a->op) {
    case 0: /* unlock a mutex this thread does not own */
      RCALL(a->r, pthread_mutex_unlock(a->m));
      break;
    case 1: /* lock (blocks until the holder lets go), then unlock */
      RCALL(a->r, pthread_mutex_lock(a->m));
      RCALL(a->r2, pthread_mutex_unlock(a->m));
      break;
    case 2: /* timedlock with a far deadline (blocks until the holder lets go), then unlock */
      RCALL(a->r, pthread_mutex_timedlock(a->m, &ts));
      RCALL(a->r2, pthread_mutex_unlock(a->m));
      break;
    case 3: /* lock and exit while holding it (robust mutex owner death) */
      RCALL(a->r, pthread_mutex_lock(a->m));
      break;
    case 4: /* trylock a mutex someone else holds */
      RCALL(a->r, pthread_mutex_trylock(a->m));
      break;
  }
  return NULL;
}

static struct lock_in_thread run_mutex_op(pthread_mutex_t *m, int op) {
  struct lock_in_thread a = {.m = m, .op = op};
  join(spawn(mutex_op_thread, &a));
  return a;
}

static void test_mutex(void) {
  pthread_mutex_t m;
  pthread_mutexattr_t ma;
  struct timespec ts;

  /* default mutex */
  PT("pthread_mutex_init", pthread_mutex_init(&m, NULL), 0);
  PT("pthread_mutex_lock", pthread_mutex_lock(&m), 0);
  PT("pthread_mutex_trylock.locked_by_self", pthread_mutex_trylock(&m), EBUSY);
  PT("pthread_mutex_destroy.locked", pthread_mutex_destroy(&m), EBUSY);
  PT("pthread_mutex_unlock", pthread_mutex_unlock(&m), 0);
  PT("pthread_mutex_trylock", pthread_mutex_trylock(&m), 0);
  PT("pthread_mutex_unlock.after_trylock", pthread_mutex_unlock(&m), 0);
  ts = at(CLOCK_REALTIME, 60000);
  PT("pthread_mutex_timedlock.free", pthread_mutex_timedlock(&m, &ts), 0);
  PT("pthread_mutex_unlock.after_timedlock", pthread_mutex_unlock(&m), 0);
  ts = at(CLOCK_MONOTONIC, 60000);
  PT("pthread_mutex_clocklock.mono_free", pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts), 0);
  PT("pthread_mutex_unlock.after_clocklock", pthread_mutex_unlock(&m), 0);
  ts = at(CLOCK_REALTIME, 60000);
  PT("pthread_mutex_clocklock.real_free", pthread_mutex_clocklock(&m, CLOCK_REALTIME, &ts), 0);
  PT("pthread_mutex_unlock.after_clocklock_real", pthread_mutex_unlock(&m), 0);
  ts = at(CLOCK_MONOTONIC, 60000);
  PT("pthread_mutex_clocklock.bad_clock", pthread_mutex_clocklock(&m, BAD_CLOCK, &ts), EINVAL);
  PT("pthread_mutex_clocklock.cputime_clock",
     pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL);

  /* held by another thread */
  struct holder h;
  holder_start(&h, H_MUTEX, &m);
  PT("pthread_mutex_trylock.held_by_other", pthread_mutex_trylock(&m), EBUSY);
  ts = at(CLOCK_REALTIME, -1000);
  PT("pthread_mutex_timedlock.past", pthread_mutex_timedlock(&m, &ts), ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_mutex_timedlock.10ms", pthread_mutex_timedlock(&m, &ts), ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, -1000);
  PT("pthread_mutex_clocklock.mono_past", pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_mutex_clocklock.mono_10ms", pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_mutex_clocklock.real_10ms", pthread_mutex_clocklock(&m, CLOCK_REALTIME, &ts),
     ETIMEDOUT);
  ts = bad_nsec();
  PT("pthread_mutex_timedlock.bad_nsec", pthread_mutex_timedlock(&m, &ts), EINVAL);
  holder_stop(&h, "pthread_mutex.held_by_other");

  /* contended lock and timedlock that succeed once the holder lets go */
  for (int op = 1; op <= 2; op++) {
    struct lock_in_thread a = {.m = &m, .op = op};
    holder_start(&h, H_MUTEX, &m);
    pthread_t t = spawn(mutex_op_thread, &a);
    holder_stop(&h, op == 1 ? "pthread_mutex_lock.contended" : "pthread_mutex_timedlock.contended");
    join(t);
    rep_pt(op == 1 ? "pthread_mutex_lock.contended" : "pthread_mutex_timedlock.contended", a.r, 0,
           "", "");
    rep_pt(op == 1 ? "pthread_mutex_unlock.contended" : "pthread_mutex_unlock.contended_timed",
           a.r2, 0, "", "");
  }
  PT("pthread_mutex_destroy", pthread_mutex_destroy(&m), 0);

  /* statically initialised */
  static pthread_mutex_t sm = PTHREAD_MUTEX_INITIALIZER;
  PT("pthread_mutex_lock.static", pthread_mutex_lock(&sm), 0);
  PT("pthread_mutex_trylock.static_locked", pthread_mutex_trylock(&sm), EBUSY);
  PT("pthread_mutex_unlock.static", pthread_mutex_unlock(&sm), 0);

  /* error-checking mutex */
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
  PT("pthread_mutex_init.errorcheck", pthread_mutex_init(&m, &ma), 0);
  PT("pthread_mutex_unlock.errorcheck_unlocked", pthread_mutex_unlock(&m), EPERM);
  PT("pthread_mutex_lock.errorcheck", pthread_mutex_lock(&m), 0);
  PT("pthread_mutex_lock.errorcheck_relock", pthread_mutex_lock(&m), EDEADLK);
  PT("pthread_mutex_trylock.errorcheck_relock", pthread_mutex_trylock(&m), EBUSY);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_mutex_timedlock.errorcheck_relock", pthread_mutex_timedlock(&m, &ts), EDEADLK);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_mutex_clocklock.errorcheck_relock", pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts),
     EDEADLK);
  struct lock_in_thread lt = run_mutex_op(&m, 0);
  rep_pt("pthread_mutex_unlock.errorcheck_other_thread", lt.r, EPERM, "", "");
  lt = run_mutex_op(&m, 4);
  rep_pt("pthread_mutex_trylock.errorcheck_other_thread", lt.r, EBUSY, "", "");
  PT("pthread_mutex_destroy.errorcheck_locked", pthread_mutex_destroy(&m), EBUSY);
  PT("pthread_mutex_unlock.errorcheck", pthread_mutex_unlock(&m), 0);
  PT("pthread_mutex_unlock.errorcheck_twice", pthread_mutex_unlock(&m), EPERM);
  PT("pthread_mutex_destroy.errorcheck", pthread_mutex_destroy(&m), 0);
  pthread_mutexattr_destroy(&ma);

  static pthread_mutex_t sem = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
  PT("pthread_mutex_lock.static_errorcheck", pthread_mutex_lock(&sem), 0);
  PT("pthread_mutex_lock.static_errorcheck_relock", pthread_mutex_lock(&sem), EDEADLK);
  PT("pthread_mutex_unlock.static_errorcheck", pthread_mutex_unlock(&sem), 0);

  /* recursive mutex */
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
  PT("pthread_mutex_init.recursive", pthread_mutex_init(&m, &ma), 0);
  PT("pthread_mutex_lock.recursive_1", pthread_mutex_lock(&m), 0);
  PT("pthread_mutex_lock.recursive_2", pthread_mutex_lock(&m), 0);
  PT("pthread_mutex_trylock.recursive_3", pthread_mutex_trylock(&m), 0);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_mutex_timedlock.recursive_4", pthread_mutex_timedlock(&m, &ts), 0);
  lt = run_mutex_op(&m, 0);
  rep_pt("pthread_mutex_unlock.recursive_other_thread", lt.r, EPERM, "", "");
  for (int i = 4; i >= 1; i--)
    PT(fmt("pthread_mutex_unlock.recursive_%d", i), pthread_mutex_unlock(&m), 0);
  PT("pthread_mutex_unlock.recursive_extra", pthread_mutex_unlock(&m), EPERM);
  PT("pthread_mutex_destroy.recursive", pthread_mutex_destroy(&m), 0);
  pthread_mutexattr_destroy(&ma);

  /* robust mutex whose owner dies: EOWNERDEAD (the lock IS acquired), then ENOTRECOVERABLE */
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
  PT("pthread_mutex_init.robust", pthread_mutex_init(&m, &ma), 0);
  lt = run_mutex_op(&m, 3);
  rep_pt("pthread_mutex_lock.robust_owner", lt.r, 0, "", "");
  PT("pthread_mutex_lock.robust_owner_dead", pthread_mutex_lock(&m), EOWNERDEAD);
  PT("pthread_mutex_consistent", pthread_mutex_consistent(&m), 0);
  PT("pthread_mutex_unlock.robust_consistent", pthread_mutex_unlock(&m), 0);
  PT("pthread_mutex_lock.robust_again", pthread_mutex_lock(&m), 0);
  PT("pthread_mutex_unlock.robust_again", pthread_mutex_unlock(&m), 0);
  PT("pthread_mutex_destroy.robust", pthread_mutex_destroy(&m), 0);

  /* A robust mutex made not recoverable: lock, timedlock, clocklock and a lock from another thread
   * all say ENOTRECOVERABLE at once. glibc 2.36's trylock then leaves the lock word set (it only
   * releases it "if (oldval == id)"), so a second trylock says EBUSY and a timedlock times out. */
  static pthread_mutex_t rm; /* static: a hung guarded thread may still refer to it */
  PT("pthread_mutex_init.robust2", pthread_mutex_init(&rm, &ma), 0);
  lt = run_mutex_op(&rm, 3);
  rep_pt("pthread_mutex_lock.robust2_owner", lt.r, 0, "", "");
  PT("pthread_mutex_trylock.robust_owner_dead", pthread_mutex_trylock(&rm), EOWNERDEAD);
  PT("pthread_mutex_unlock.robust_inconsistent", pthread_mutex_unlock(&rm), 0);
  PT("pthread_mutex_lock.robust_notrecoverable", pthread_mutex_lock(&rm), ENOTRECOVERABLE);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_mutex_timedlock.robust_notrecoverable", pthread_mutex_timedlock(&rm, &ts),
     ENOTRECOVERABLE);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_mutex_clocklock.robust_notrecoverable",
     pthread_mutex_clocklock(&rm, CLOCK_MONOTONIC, &ts), ENOTRECOVERABLE);
  /* A blocking lock: guarded, a hook that leaves the lock word set would make it wait forever. */
  rep_pt("pthread_mutex_lock.robust_notrecoverable_other_thread",
         run_guarded((int (*)(void *))pthread_mutex_lock, &rm), ENOTRECOVERABLE, "", "");
  PT("pthread_mutex_trylock.robust_notrecoverable", pthread_mutex_trylock(&rm), ENOTRECOVERABLE);
  PT("pthread_mutex_trylock.robust_notrecoverable_after_trylock", pthread_mutex_trylock(&rm),
     EBUSY);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_mutex_timedlock.robust_notrecoverable_after_trylock",
     pthread_mutex_timedlock(&rm, &ts), ETIMEDOUT);
  PT("pthread_mutex_destroy.robust2", pthread_mutex_destroy(&rm), 0);
  pthread_mutexattr_destroy(&ma);

  /* priority-inheritance error-checking mutex */
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
  PT("pthread_mutex_init.pi", pthread_mutex_init(&m, &ma), 0);
  PT("pthread_mutex_lock.pi", pthread_mutex_lock(&m), 0);
  PT("pthread_mutex_lock.pi_relock", pthread_mutex_lock(&m), EDEADLK);
  /* Unlike the plain error-checking kind, a PI one reports the owner's trylock as EDEADLK. */
  PT("pthread_mutex_trylock.pi_relock", pthread_mutex_trylock(&m), EDEADLK);
  lt = run_mutex_op(&m, 0);
  rep_pt("pthread_mutex_unlock.pi_other_thread", lt.r, EPERM, "", "");
  PT("pthread_mutex_unlock.pi", pthread_mutex_unlock(&m), 0);
  PT("pthread_mutex_unlock.pi_twice", pthread_mutex_unlock(&m), EPERM);
  holder_start(&h, H_MUTEX, &m);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_mutex_timedlock.pi_10ms", pthread_mutex_timedlock(&m, &ts), ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_mutex_clocklock.pi_mono_10ms", pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts),
     ETIMEDOUT);
  holder_stop(&h, "pthread_mutex.pi_held_by_other");
  PT("pthread_mutex_destroy.pi", pthread_mutex_destroy(&m), 0);
  pthread_mutexattr_destroy(&ma);
}

/* ---------------------------------------------------------------------------------------------- */
/* Reader-writer locks */

struct rw_in_thread {
  pthread_rwlock_t *l;
  struct res r, r2;
};

static void *rw_wrlock_thread(void *p) {
  struct rw_in_thread *a = p;
  RCALL(a->r, pthread_rwlock_wrlock(a->l));
  RCALL(a->r2, pthread_rwlock_unlock(a->l));
  return NULL;
}

static void *rw_rdlock_thread(void *p) {
  struct rw_in_thread *a = p;
  RCALL(a->r, pthread_rwlock_rdlock(a->l));
  RCALL(a->r2, pthread_rwlock_unlock(a->l));
  return NULL;
}

static void test_rwlock(void) {
  pthread_rwlock_t l;
  struct timespec ts;

  PT("pthread_rwlock_init", pthread_rwlock_init(&l, NULL), 0);

  /* Bad timeouts are rejected before anything else, even on a free lock, and leave it free. Each
   * case gets a fresh lock so that a hook that takes the lock anyway cannot upset later checks. */
  for (int i = 0; i < 6; i++) {
    static const char *names[] = {
        "pthread_rwlock_clockrdlock.bad_clock", "pthread_rwlock_clockwrlock.bad_clock",
        "pthread_rwlock_timedrdlock.bad_nsec",  "pthread_rwlock_timedwrlock.bad_nsec",
        "pthread_rwlock_clockrdlock.bad_nsec",  "pthread_rwlock_clockwrlock.bad_nsec"};
    pthread_rwlock_t fresh;
    pthread_rwlock_init(&fresh, NULL);
    ts = i < 2 ? at(CLOCK_MONOTONIC, 10) : bad_nsec();
    switch (i) {
      case 0:
        RCALL(g, pthread_rwlock_clockrdlock(&fresh, BAD_CLOCK, &ts));
        break;
      case 1:
        RCALL(g, pthread_rwlock_clockwrlock(&fresh, BAD_CLOCK, &ts));
        break;
      case 2:
        RCALL(g, pthread_rwlock_timedrdlock(&fresh, &ts));
        break;
      case 3:
        RCALL(g, pthread_rwlock_timedwrlock(&fresh, &ts));
        break;
      case 4:
        RCALL(g, pthread_rwlock_clockrdlock(&fresh, CLOCK_MONOTONIC, &ts));
        break;
      default:
        RCALL(g, pthread_rwlock_clockwrlock(&fresh, CLOCK_MONOTONIC, &ts));
        break;
    }
    rep_pt(names[i], g, EINVAL, "", "");
    PT(fmt("%s.then_trywrlock", names[i]), pthread_rwlock_trywrlock(&fresh), 0);
    pthread_rwlock_destroy(&fresh);
  }

  /* read side, by this thread */
  PT("pthread_rwlock_rdlock", pthread_rwlock_rdlock(&l), 0);
  PT("pthread_rwlock_rdlock.second", pthread_rwlock_rdlock(&l), 0);
  PT("pthread_rwlock_tryrdlock.read_locked", pthread_rwlock_tryrdlock(&l), 0);
  ts = at(CLOCK_REALTIME, 60000);
  PT("pthread_rwlock_timedrdlock.read_locked", pthread_rwlock_timedrdlock(&l, &ts), 0);
  ts = at(CLOCK_MONOTONIC, 60000);
  PT("pthread_rwlock_clockrdlock.read_locked", pthread_rwlock_clockrdlock(&l, CLOCK_MONOTONIC, &ts),
     0);
  PT("pthread_rwlock_trywrlock.read_locked", pthread_rwlock_trywrlock(&l), EBUSY);
  ts = at(CLOCK_REALTIME, -1000);
  PT("pthread_rwlock_timedwrlock.read_locked_past", pthread_rwlock_timedwrlock(&l, &ts), ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_rwlock_clockwrlock.read_locked_10ms",
     pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
  for (int i = 5; i >= 1; i--)
    PT(fmt("pthread_rwlock_unlock.read_%d", i), pthread_rwlock_unlock(&l), 0);

  /* write side, by this thread */
  PT("pthread_rwlock_wrlock", pthread_rwlock_wrlock(&l), 0);
  PT("pthread_rwlock_wrlock.owner_again", pthread_rwlock_wrlock(&l), EDEADLK);
  PT("pthread_rwlock_rdlock.owner_writer", pthread_rwlock_rdlock(&l), EDEADLK);
  PT("pthread_rwlock_tryrdlock.write_locked", pthread_rwlock_tryrdlock(&l), EBUSY);
  PT("pthread_rwlock_trywrlock.write_locked", pthread_rwlock_trywrlock(&l), EBUSY);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_rwlock_timedrdlock.owner_writer", pthread_rwlock_timedrdlock(&l, &ts), EDEADLK);
  PT("pthread_rwlock_timedwrlock.owner_writer", pthread_rwlock_timedwrlock(&l, &ts), EDEADLK);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_rwlock_clockrdlock.owner_writer",
     pthread_rwlock_clockrdlock(&l, CLOCK_MONOTONIC, &ts), EDEADLK);
  PT("pthread_rwlock_clockwrlock.owner_writer",
     pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &ts), EDEADLK);
  PT("pthread_rwlock_unlock.write", pthread_rwlock_unlock(&l), 0);
  ts = at(CLOCK_REALTIME, 60000);
  PT("pthread_rwlock_timedwrlock.free", pthread_rwlock_timedwrlock(&l, &ts), 0);
  PT("pthread_rwlock_unlock.timedwr", pthread_rwlock_unlock(&l), 0);
  ts = at(CLOCK_REALTIME, 60000);
  PT("pthread_rwlock_clockwrlock.real_free", pthread_rwlock_clockwrlock(&l, CLOCK_REALTIME, &ts),
     0);
  PT("pthread_rwlock_unlock.clockwr", pthread_rwlock_unlock(&l), 0);
  PT("pthread_rwlock_trywrlock.free", pthread_rwlock_trywrlock(&l), 0);
  PT("pthread_rwlock_unlock.trywr", pthread_rwlock_unlock(&l), 0);

  /* write-locked by another thread */
  struct holder h;
  holder_start(&h, H_WR, &l);
  PT("pthread_rwlock_tryrdlock.other_writer", pthread_rwlock_tryrdlock(&l), EBUSY);
  PT("pthread_rwlock_trywrlock.other_writer", pthread_rwlock_trywrlock(&l), EBUSY);
  ts = at(CLOCK_REALTIME, -1000);
  PT("pthread_rwlock_timedrdlock.other_writer_past", pthread_rwlock_timedrdlock(&l, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_rwlock_timedrdlock.other_writer_10ms", pthread_rwlock_timedrdlock(&l, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_rwlock_timedwrlock.other_writer_10ms", pthread_rwlock_timedwrlock(&l, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_rwlock_clockrdlock.other_writer_10ms",
     pthread_rwlock_clockrdlock(&l, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, -1000);
  PT("pthread_rwlock_clockwrlock.other_writer_past",
     pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
  holder_stop(&h, "pthread_rwlock.other_writer");

  /* read-locked by another thread */
  holder_start(&h, H_RD, &l);
  PT("pthread_rwlock_tryrdlock.other_reader", pthread_rwlock_tryrdlock(&l), 0);
  PT("pthread_rwlock_unlock.other_reader", pthread_rwlock_unlock(&l), 0);
  PT("pthread_rwlock_trywrlock.other_reader", pthread_rwlock_trywrlock(&l), EBUSY);
  ts = at(CLOCK_REALTIME, -1000);
  PT("pthread_rwlock_timedwrlock.other_reader_past", pthread_rwlock_timedwrlock(&l, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_rwlock_timedwrlock.other_reader_10ms", pthread_rwlock_timedwrlock(&l, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_rwlock_clockwrlock.other_reader_10ms",
     pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
  holder_stop(&h, "pthread_rwlock.other_reader");

  /* contended wrlock and rdlock that succeed once the writer lets go */
  struct rw_in_thread a = {.l = &l}, b = {.l = &l};
  holder_start(&h, H_WR, &l);
  pthread_t ta = spawn(rw_wrlock_thread, &a);
  pthread_t tb = spawn(rw_rdlock_thread, &b);
  holder_stop(&h, "pthread_rwlock.contended");
  join(ta);
  join(tb);
  rep_pt("pthread_rwlock_wrlock.contended", a.r, 0, "", "");
  rep_pt("pthread_rwlock_unlock.contended_writer", a.r2, 0, "", "");
  rep_pt("pthread_rwlock_rdlock.contended", b.r, 0, "", "");
  rep_pt("pthread_rwlock_unlock.contended_reader", b.r2, 0, "", "");

  PT("pthread_rwlock_destroy", pthread_rwlock_destroy(&l), 0);

  static pthread_rwlock_t sl = PTHREAD_RWLOCK_INITIALIZER;
  PT("pthread_rwlock_wrlock.static", pthread_rwlock_wrlock(&sl), 0);
  PT("pthread_rwlock_tryrdlock.static_write_locked", pthread_rwlock_tryrdlock(&sl), EBUSY);
  PT("pthread_rwlock_unlock.static", pthread_rwlock_unlock(&sl), 0);

  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  PT("pthread_rwlock_init.prefer_writer", pthread_rwlock_init(&l, &ra), 0);
  PT("pthread_rwlock_rdlock.prefer_writer", pthread_rwlock_rdlock(&l), 0);
  PT("pthread_rwlock_trywrlock.prefer_writer", pthread_rwlock_trywrlock(&l), EBUSY);
  PT("pthread_rwlock_unlock.prefer_writer", pthread_rwlock_unlock(&l), 0);
  PT("pthread_rwlock_destroy.prefer_writer", pthread_rwlock_destroy(&l), 0);
  pthread_rwlockattr_destroy(&ra);
}

/* ---------------------------------------------------------------------------------------------- */
/* Condition variables */

struct cv {
  pthread_mutex_t m;
  pthread_cond_t c, c_main;
  int pred, waiting, go;
  struct res r[2];
  int mode;
};

/* Sets the predicate and signals (mode 0) or broadcasts (mode 1). */
static void *cv_signaler(void *p) {
  struct cv *s = p;
  pthread_mutex_lock(&s->m);
  s->pred = 1;
  if (s->mode == 0)
    RCALL(s->r[0], pthread_cond_signal(&s->c));
  else
    RCALL(s->r[0], pthread_cond_broadcast(&s->c));
  pthread_mutex_unlock(&s->m);
  return NULL;
}

struct cv_waiter {
  struct cv *s;
  int idx;
};

static void *cv_waiter_main(void *p) {
  struct cv_waiter *w = p;
  struct cv *s = w->s;
  pthread_mutex_lock(&s->m);
  s->waiting++;
  pthread_cond_signal(&s->c_main);
  struct res r = {0, SENTINEL};
  while (!s->go)
    RCALL(r, pthread_cond_wait(&s->c, &s->m));
  s->r[w->idx] = r;
  pthread_mutex_unlock(&s->m);
  return NULL;
}

static void cv_init(struct cv *s, int errorcheck) {
  memset(s, 0, sizeof *s);
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  if (errorcheck)
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&s->m, &ma);
  pthread_mutexattr_destroy(&ma);
  pthread_cond_init(&s->c, NULL);
  pthread_cond_init(&s->c_main, NULL);
}

static void cv_destroy(struct cv *s) {
  pthread_cond_destroy(&s->c);
  pthread_cond_destroy(&s->c_main);
  pthread_mutex_destroy(&s->m);
}

static void test_cond(void) {
  struct cv s;
  struct timespec ts;
  pthread_cond_t c;

  cv_init(&s, 1);
  PT("pthread_cond_init", pthread_cond_init(&c, NULL), 0);
  PT("pthread_cond_signal.no_waiters", pthread_cond_signal(&c), 0);
  PT("pthread_cond_broadcast.no_waiters", pthread_cond_broadcast(&c), 0);

  /* time-outs; the mutex must be held again afterwards (errorcheck unlock says 0) */
  PT("pthread_mutex_lock.cond", pthread_mutex_lock(&s.m), 0);
  ts = at(CLOCK_REALTIME, -1000);
  PT("pthread_cond_timedwait.past", pthread_cond_timedwait(&c, &s.m, &ts), ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_cond_timedwait.10ms", pthread_cond_timedwait(&c, &s.m, &ts), ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, -1000);
  PT("pthread_cond_clockwait.mono_past", pthread_cond_clockwait(&c, &s.m, CLOCK_MONOTONIC, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_cond_clockwait.mono_10ms", pthread_cond_clockwait(&c, &s.m, CLOCK_MONOTONIC, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_cond_clockwait.real_10ms", pthread_cond_clockwait(&c, &s.m, CLOCK_REALTIME, &ts),
     ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_cond_clockwait.bad_clock", pthread_cond_clockwait(&c, &s.m, BAD_CLOCK, &ts), EINVAL);
  ts = bad_nsec();
  PT("pthread_cond_timedwait.bad_nsec", pthread_cond_timedwait(&c, &s.m, &ts), EINVAL);
  PT("pthread_cond_clockwait.bad_nsec", pthread_cond_clockwait(&c, &s.m, CLOCK_MONOTONIC, &ts),
     EINVAL);
  PT("pthread_mutex_unlock.after_cond_timeouts", pthread_mutex_unlock(&s.m), 0);

  /* waiting with an error-checking mutex that is not held */
  PT("pthread_cond_wait.mutex_not_owned", pthread_cond_wait(&c, &s.m), EPERM);
  ts = at(CLOCK_REALTIME, 10);
  PT("pthread_cond_timedwait.mutex_not_owned", pthread_cond_timedwait(&c, &s.m, &ts), EPERM);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_cond_clockwait.mutex_not_owned",
     pthread_cond_clockwait(&c, &s.m, CLOCK_MONOTONIC, &ts), EPERM);
  PT("pthread_cond_destroy", pthread_cond_destroy(&c), 0);

  /* a condvar on CLOCK_MONOTONIC */
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  PT("pthread_condattr_setclock", pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
  PT("pthread_cond_init.monotonic", pthread_cond_init(&c, &ca), 0);
  pthread_mutex_lock(&s.m);
  ts = at(CLOCK_MONOTONIC, -1000);
  PT("pthread_cond_timedwait.monotonic_past", pthread_cond_timedwait(&c, &s.m, &ts), ETIMEDOUT);
  ts = at(CLOCK_MONOTONIC, 10);
  PT("pthread_cond_timedwait.monotonic_10ms", pthread_cond_timedwait(&c, &s.m, &ts), ETIMEDOUT);
  PT("pthread_mutex_unlock.after_monotonic", pthread_mutex_unlock(&s.m), 0);
  PT("pthread_cond_destroy.monotonic", pthread_cond_destroy(&c), 0);
  pthread_condattr_destroy(&ca);
  cv_destroy(&s);

  /* wait / timedwait / clockwait woken by a signal, and by a broadcast; the main thread holds the
   * mutex before the signaler starts, so the signal cannot come before the wait */
  for (int kind = 0; kind < 4; kind++) {
    static const char *names[] = {"pthread_cond_wait.signalled", "pthread_cond_timedwait.signalled",
                                  "pthread_cond_clockwait.signalled",
                                  "pthread_cond_wait.broadcast"};
    cv_init(&s, 1);
    s.mode = kind == 3;
    pthread_mutex_lock(&s.m);
    pthread_t t = spawn(cv_signaler, &s);
    struct res r = {0, SENTINEL};
    while (!s.pred) {
      if (kind == 1) {
        ts = at(CLOCK_REALTIME, 60000);
        RCALL(r, pthread_cond_timedwait(&s.c, &s.m, &ts));
      } else if (kind == 2) {
        ts = at(CLOCK_MONOTONIC, 60000);
        RCALL(r, pthread_cond_clockwait(&s.c, &s.m, CLOCK_MONOTONIC, &ts));
      } else {
        RCALL(r, pthread_cond_wait(&s.c, &s.m));
      }
    }
    rep_pt(names[kind], r, 0, fmt("pred=%d", s.pred), "pred=1");
    PT(fmt("%s.unlock", names[kind]), pthread_mutex_unlock(&s.m), 0);
    join(t);
    rep_pt(kind == 3 ? "pthread_cond_broadcast.one_waiter" : fmt("%s.signal", names[kind]), s.r[0],
           0, "", "");
    cv_destroy(&s);
  }

  /* broadcast to two waiters */
  cv_init(&s, 0);
  struct cv_waiter w[2] = {{&s, 0}, {&s, 1}};
  pthread_t t0 = spawn(cv_waiter_main, &w[0]);
  pthread_t t1 = spawn(cv_waiter_main, &w[1]);
  pthread_mutex_lock(&s.m);
  while (s.waiting < 2)
    pthread_cond_wait(&s.c_main, &s.m);
  s.go = 1;
  PT("pthread_cond_broadcast.two_waiters", pthread_cond_broadcast(&s.c), 0);
  pthread_mutex_unlock(&s.m);
  join(t0);
  join(t1);
  rep_pt("pthread_cond_wait.broadcast_waiter_0", s.r[0], 0, "", "");
  rep_pt("pthread_cond_wait.broadcast_waiter_1", s.r[1], 0, "", "");
  cv_destroy(&s);

  static pthread_cond_t sc = PTHREAD_COND_INITIALIZER;
  static pthread_mutex_t sm = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&sm);
  ts = at(CLOCK_REALTIME, -1000);
  PT("pthread_cond_timedwait.static", pthread_cond_timedwait(&sc, &sm, &ts), ETIMEDOUT);
  pthread_mutex_unlock(&sm);
  PT("pthread_cond_signal.static", pthread_cond_signal(&sc), 0);
}

/* ---------------------------------------------------------------------------------------------- */
/* Cancellation */

struct cancel_arg {
  struct gate ready;
  int fd;
  pthread_mutex_t m;
  pthread_cond_t c;
  pthread_t target;
  atomic_int cleanup_ran;
  struct res cleanup_unlock;
  int timed;
};

static void cleanup_flag(void *p) {
  ((struct cancel_arg *)p)->cleanup_ran = 1;
}

static void cleanup_unlock(void *p) {
  struct cancel_arg *a = p;
  a->cleanup_ran = 1;
  RCALL(a->cleanup_unlock, pthread_mutex_unlock(&a->m));
}

static void *cancel_in_read(void *p) {
  struct cancel_arg *a = p;
  char b;
  ssize_t n = 0;
  pthread_cleanup_push(cleanup_flag, a);
  gate_open(&a->ready);
  n = read(a->fd, &b, 1);
  pthread_cleanup_pop(0);
  return (void *)n;
}

static void *cancel_in_eventfd_read(void *p) {
  struct cancel_arg *a = p;
  eventfd_t v;
  int r = 0;
  pthread_cleanup_push(cleanup_flag, a);
  gate_open(&a->ready);
  r = eventfd_read(a->fd, &v);
  pthread_cleanup_pop(0);
  return (void *)(long)r;
}

static void *cancel_in_join(void *p) {
  struct cancel_arg *a = p;
  int r = 0;
  pthread_cleanup_push(cleanup_flag, a);
  gate_open(&a->ready);
  r = pthread_join(a->target, NULL);
  pthread_cleanup_pop(0);
  return (void *)(long)r;
}

static void *cancel_in_condwait(void *p) {
  struct cancel_arg *a = p;
  pthread_mutex_lock(&a->m);
  pthread_cleanup_push(cleanup_unlock, a);
  gate_open(&a->ready);
  for (;;) {
    if (a->timed) {
      struct timespec ts = at(CLOCK_REALTIME, 3600 * 1000L);
      pthread_cond_timedwait(&a->c, &a->m, &ts);
    } else {
      pthread_cond_wait(&a->c, &a->m);
    }
  }
  pthread_cleanup_pop(0);
  return NULL;
}

static void cancel_join_report(const char *name, pthread_t t, struct cancel_arg *a) {
  void *rv = NULL;
  RCALL(g, pthread_join(t, &rv));
  rep_pt(fmt("%s.join", name), g, 0,
         fmt("retval=%s cleanup=%d", rv == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "other",
             (int)a->cleanup_ran),
         "retval=PTHREAD_CANCELED cleanup=1");
}

static void test_cancel(void) {
  struct cancel_arg a;
  int p[2];

  /* blocked in read() on an empty pipe */
  memset(&a, 0, sizeof a);
  gate_init(&a.ready);
  if (pipe(p) != 0)
    die("pipe");
  a.fd = p[0];
  pthread_t t = spawn(cancel_in_read, &a);
  gate_wait(&a.ready);
  PT("pthread_cancel.in_read", pthread_cancel(t), 0);
  cancel_join_report("pthread_cancel.in_read", t, &a);
  close(p[0]);
  close(p[1]);
  gate_close(&a.ready);

  /* blocked in eventfd_read() on a zero eventfd */
  memset(&a, 0, sizeof a);
  gate_init(&a.ready);
  a.fd = eventfd(0, 0);
  if (a.fd < 0)
    die("eventfd");
  t = spawn(cancel_in_eventfd_read, &a);
  gate_wait(&a.ready);
  PT("pthread_cancel.in_eventfd_read", pthread_cancel(t), 0);
  cancel_join_report("pthread_cancel.in_eventfd_read", t, &a);
  close(a.fd);
  gate_close(&a.ready);

  /* blocked in pthread_join() of a running thread; that thread stays joinable */
  memset(&a, 0, sizeof a);
  gate_init(&a.ready);
  struct gate gt;
  gate_init(&gt);
  a.target = spawn(wait_gate_ret7, &gt);
  t = spawn(cancel_in_join, &a);
  gate_wait(&a.ready);
  PT("pthread_cancel.in_join", pthread_cancel(t), 0);
  cancel_join_report("pthread_cancel.in_join", t, &a);
  gate_open(&gt);
  void *rv = NULL;
  RCALL(g, pthread_join(a.target, &rv));
  rep_pt("pthread_join.after_cancelled_joiner", g, 0, fmt("retval=%ld", (long)rv), "retval=7");
  gate_close(&gt);
  gate_close(&a.ready);

  /* blocked in pthread_cond_wait / timedwait with an error-checking mutex: the cancelled thread
   * owns the mutex again when its cleanup handler runs, so the handler's unlock returns 0 */
  for (int timed = 0; timed <= 1; timed++) {
    const char *name = timed ? "pthread_cancel.in_cond_timedwait" : "pthread_cancel.in_cond_wait";
    memset(&a, 0, sizeof a);
    gate_init(&a.ready);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&a.m, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_cond_init(&a.c, NULL);
    a.timed = timed;
    t = spawn(cancel_in_condwait, &a);
    gate_wait(&a.ready);
    /* The thread releases the mutex only inside the wait, so once we hold it the thread waits. */
    PT(fmt("%s.main_lock", name), pthread_mutex_lock(&a.m), 0);
    PT(name, pthread_cancel(t), 0);
    PT(fmt("%s.main_unlock", name), pthread_mutex_unlock(&a.m), 0);
    cancel_join_report(name, t, &a);
    rep_pt(fmt("%s.cleanup_unlock", name), a.cleanup_unlock, 0, "", "");
    PT(fmt("%s.trylock_after", name), pthread_mutex_trylock(&a.m), 0);
    PT(fmt("%s.unlock_after", name), pthread_mutex_unlock(&a.m), 0);
    pthread_cond_destroy(&a.c);
    pthread_mutex_destroy(&a.m);
    gate_close(&a.ready);
  }
}

/* ---------------------------------------------------------------------------------------------- */
/* Pipes, eventfds, read, write */

struct rw_arg {
  int fd;
  size_t len;
  char *buf;
  struct res r;
};

static void *write_thread(void *p) {
  struct rw_arg *a = p;
  RCALL(a->r, write(a->fd, a->buf, a->len));
  return NULL;
}

static void *eventfd_write_thread(void *p) {
  struct rw_arg *a = p;
  RCALL(a->r, eventfd_write(a->fd, 9));
  return NULL;
}

static void test_pipe_eventfd(void) {
  int p[2], q[2];
  char buf[256];
  int *volatile badptr = NULL;
  char *volatile badbuf = NULL;

  SYS("pipe", pipe(p), 0, SENTINEL);
  SYS("pipe.efault", pipe(badptr), -1, EFAULT);
  SYS("write.pipe", write(p[1], "hello", 5), 5, SENTINEL);
  SYS("write.pipe_zero_len", write(p[1], "", 0), 0, SENTINEL);
  memset(buf, 0, sizeof buf);
  RCALL(g, read(p[0], buf, sizeof buf));
  rep_sys("read.pipe", g, 5, SENTINEL, fmt("data=%s", buf), "data=hello");
  SYS("read.pipe_zero_len", read(p[0], buf, 0), 0, SENTINEL);
  SYS("read.pipe_write_end", read(p[1], buf, 1), -1, EBADF);
  SYS("write.pipe_read_end", write(p[0], "x", 1), -1, EBADF);
  SYS("write.pipe_efault", write(p[1], badbuf, 4), -1, EFAULT);
  SYS("write.pipe_more", write(p[1], "abc", 3), 3, SENTINEL);
  SYS("read.pipe_efault", read(p[0], badbuf, 3), -1, EFAULT);
  RCALL(g, __read_chk(p[0], buf, 3, sizeof buf));
  rep_sys("__read_chk.pipe", g, 3, SENTINEL, fmt("data=%.3s", buf), "data=abc");
  /* blocking read that a writer thread satisfies */
  struct rw_arg wa = {.fd = p[1], .len = 3, .buf = "xyz"};
  pthread_t t = spawn(write_thread, &wa);
  memset(buf, 0, sizeof buf);
  RCALL(g, read(p[0], buf, 3));
  rep_sys("read.pipe_blocking", g, 3, SENTINEL, fmt("data=%s", buf), "data=xyz");
  join(t);
  rep_sys("write.pipe_from_thread", wa.r, 3, SENTINEL, "", "");
  /* a blocking write larger than the pipe, drained by this thread */
  static char big[100000], sink[100000];
  memset(big, 'b', sizeof big);
  wa = (struct rw_arg){.fd = p[1], .len = sizeof big, .buf = big};
  t = spawn(write_thread, &wa);
  size_t got = 0;
  while (got < sizeof sink) {
    ssize_t n = read(p[0], sink + got, sizeof sink - got);
    if (n <= 0)
      die("read (drain)");
    got += (size_t)n;
  }
  join(t);
  rep_sys("write.pipe_blocking_large", wa.r, (long)sizeof big, SENTINEL,
          fmt("drained=%zu same=%d", got, memcmp(big, sink, sizeof big) == 0),
          "drained=100000 same=1");
  /* EOF and EPIPE */
  SYS("close.pipe_write_end", close(p[1]), 0, SENTINEL);
  SYS("read.pipe_eof", read(p[0], buf, 1), 0, SENTINEL);
  SYS("close.pipe_read_end", close(p[0]), 0, SENTINEL);
  SYS("pipe.for_epipe", pipe(p), 0, SENTINEL);
  close(p[0]);
  SYS("write.pipe_no_reader", write(p[1], "x", 1), -1, EPIPE);
  close(p[1]);

  /* non-blocking pipe */
  SYS("pipe2.nonblock_cloexec", pipe2(q, O_NONBLOCK | O_CLOEXEC), 0, SENTINEL);
  check("pipe2.flags", "0", SENTINEL,
        fmt("nonblock=%d cloexec=%d", !!(fcntl(q[0], F_GETFL) & O_NONBLOCK), cloexec_of(q[1])), "0",
        SENTINEL, "nonblock=1 cloexec=1");
  SYS("pipe2.bad_flags", pipe2(p, O_RDWR | 0x40000000), -1, EINVAL);
  SYS("pipe2.efault", pipe2(badptr, 0), -1, EFAULT);
  SYS("read.empty_nonblock", read(q[0], buf, 1), -1, EAGAIN);
  SYS("__read_chk.empty_nonblock", __read_chk(q[0], buf, 1, sizeof buf), -1, EAGAIN);
  long total = 0;
  for (;;) {
    RCALL(g, write(q[1], big, 4096));
    if (g.ret < 0)
      break;
    total += g.ret;
  }
  rep_sys("write.full_nonblock", g, -1, EAGAIN, fmt("wrote_some=%d", total > 0), "wrote_some=1");
  SYS("read.full_nonblock", read(q[0], buf, 10), 10, SENTINEL);
  close(q[0]);
  close(q[1]);

  /* eventfd */
  int e;
  FD("eventfd.nonblock", e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), 1, SENTINEL);
  FD("eventfd.bad_flags", eventfd(0, 0xffff), 0, EINVAL);
  eventfd_t v = 0;
  SYS("eventfd_read.zero_nonblock", eventfd_read(e, &v), -1, EAGAIN);
  SYS("read.eventfd_zero_nonblock", read(e, &v, sizeof v), -1, EAGAIN);
  SYS("eventfd_write.5", eventfd_write(e, 5), 0, SENTINEL);
  SYS("eventfd_write.3", eventfd_write(e, 3), 0, SENTINEL);
  v = 0;
  RCALL(g, eventfd_read(e, &v));
  rep_sys("eventfd_read", g, 0, SENTINEL, fmt("value=%llu", (unsigned long long)v), "value=8");
  uint64_t u = 2;
  SYS("write.eventfd", write(e, &u, sizeof u), 8, SENTINEL);
  u = 0;
  RCALL(g, read(e, &u, sizeof u));
  rep_sys("read.eventfd", g, 8, SENTINEL, fmt("value=%llu", (unsigned long long)u), "value=2");
  SYS("write.eventfd_short", write(e, &u, 4), -1, EINVAL);
  SYS("eventfd_write.eventfd_write", eventfd_write(e, 1), 0, SENTINEL);
  SYS("read.eventfd_short", read(e, &u, 4), -1, EINVAL);
  u = 0;
  RCALL(g, __read_chk(e, &u, sizeof u, sizeof u));
  rep_sys("__read_chk.eventfd", g, 8, SENTINEL, fmt("value=%llu", (unsigned long long)u),
          "value=1");
  SYS("eventfd_write.max_plus_one", eventfd_write(e, UINT64_MAX), -1, EINVAL);
  SYS("eventfd_write.max", eventfd_write(e, UINT64_MAX - 1), 0, SENTINEL);
  SYS("eventfd_write.overflow_nonblock", eventfd_write(e, 1), -1, EAGAIN);
  v = 0;
  RCALL(g, eventfd_read(e, &v));
  rep_sys("eventfd_read.max", g, 0, SENTINEL, fmt("value_is_max=%d", v == UINT64_MAX - 1),
          "value_is_max=1");
  SYS("close.eventfd", close(e), 0, SENTINEL);
  SYS("eventfd_read.closed", eventfd_read(e, &v), -1, EBADF);
  SYS("eventfd_write.closed", eventfd_write(e, 1), -1, EBADF);
  SYS("eventfd_read.not_an_fd", eventfd_read(g_badfd, &v), -1, EBADF);
  SYS("eventfd_write.not_an_fd", eventfd_write(g_badfd, 1), -1, EBADF);

  /* semaphore mode */
  FD("eventfd.semaphore", e = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK), 1, SENTINEL);
  for (int i = 1; i <= 3; i++) {
    v = 0;
    RCALL(g, eventfd_read(e, &v));
    rep_sys(fmt("eventfd_read.semaphore_%d", i), g, 0, SENTINEL,
            fmt("value=%llu", (unsigned long long)v), "value=1");
  }
  SYS("eventfd_read.semaphore_empty", eventfd_read(e, &v), -1, EAGAIN);
  close(e);

  /* a blocking eventfd_read that another thread's eventfd_write satisfies */
  FD("eventfd.blocking", e = eventfd(0, 0), 1, SENTINEL);
  wa = (struct rw_arg){.fd = e};
  t = spawn(eventfd_write_thread, &wa);
  v = 0;
  RCALL(g, eventfd_read(e, &v));
  rep_sys("eventfd_read.blocking", g, 0, SENTINEL, fmt("value=%llu", (unsigned long long)v),
          "value=9");
  join(t);
  rep_sys("eventfd_write.from_thread", wa.r, 0, SENTINEL, "", "");
  close(e);
}

/* ---------------------------------------------------------------------------------------------- */
/* dup, dup2, dup3, fcntl, close, close_range */

static void test_dup_fcntl_close(void) {
  int p[2], d;
  char buf[16];
  int bad = g_badfd, nf = g_fdbase;

  /* EBADF on an fd that is not open */
  SYS("read.closed_fd", read(bad, buf, 1), -1, EBADF);
  SYS("__read_chk.closed_fd", __read_chk(bad, buf, 1, sizeof buf), -1, EBADF);
  SYS("write.closed_fd", write(bad, "x", 1), -1, EBADF);
  SYS("close.closed_fd", close(bad), -1, EBADF);
  SYS("close.negative_fd", close(-1), -1, EBADF);
  SYS("dup.closed_fd", dup(bad), -1, EBADF);
  SYS("dup2.closed_fd", dup2(bad, nf), -1, EBADF);
  SYS("dup3.closed_fd", dup3(bad, nf, 0), -1, EBADF);
  SYS("fcntl.closed_fd_getfl", fcntl(bad, F_GETFL), -1, EBADF);
  SYS("fcntl.closed_fd_setfl", fcntl(bad, F_SETFL, O_NONBLOCK), -1, EBADF);
  SYS("fcntl.closed_fd_dupfd", fcntl(bad, F_DUPFD, 0), -1, EBADF);
  SYS("fcntl.closed_fd_dupfd_cloexec", fcntl(bad, F_DUPFD_CLOEXEC, 0), -1, EBADF);
  SYS("fcntl64.closed_fd_getfl", fcntl64(bad, F_GETFL), -1, EBADF);
  SYS("fcntl64.closed_fd_dupfd", fcntl64(bad, F_DUPFD, 0), -1, EBADF);

  SYS("pipe.dup", pipe(p), 0, SENTINEL);

  /* dup */
  FD("dup", d = dup(p[0]), 1, SENTINEL);
  /* dup2 */
  RCALL(g, dup2(p[1], nf));
  check("dup2", g.ret == nf ? "newfd" : num(g.ret), g.err, "", "newfd", SENTINEL, "");
  RCALL(g, dup2(nf, nf));
  check("dup2.same_fd", g.ret == nf ? "newfd" : num(g.ret), g.err, "", "newfd", SENTINEL, "");
  SYS("dup2.negative_newfd", dup2(p[1], -1), -1, EBADF);
  SYS("dup2.huge_newfd", dup2(p[1], INT_MAX), -1, EBADF);
  /* dup3 */
  SYS("dup3.same_fd", dup3(p[1], p[1], 0), -1, EINVAL);
  SYS("dup3.bad_flags", dup3(p[1], nf + 1, 0x4), -1, EINVAL);
  RCALL(g, dup3(p[1], nf + 1, O_CLOEXEC));
  check("dup3.cloexec", g.ret == nf + 1 ? "newfd" : num(g.ret), g.err,
        fmt("cloexec=%d", cloexec_of(nf + 1)), "newfd", SENTINEL, "cloexec=1");
  RCALL(g, dup3(p[1], nf + 2, 0));
  check("dup3", g.ret == nf + 2 ? "newfd" : num(g.ret), g.err,
        fmt("cloexec=%d", cloexec_of(nf + 2)), "newfd", SENTINEL, "cloexec=0");

  /* data flows through the duplicates after the originals are closed */
  SYS("close.pipe_original_write", close(p[1]), 0, SENTINEL);
  SYS("write.dup2", write(nf, "a", 1), 1, SENTINEL);
  SYS("write.dup3", write(nf + 1, "b", 1), 1, SENTINEL);
  SYS("close.pipe_original_read", close(p[0]), 0, SENTINEL);
  memset(buf, 0, sizeof buf);
  RCALL(g, read(d, buf, sizeof buf));
  rep_sys("read.dup", g, 2, SENTINEL, fmt("data=%s", buf), "data=ab");
  SYS("close.dup2", close(nf), 0, SENTINEL);
  SYS("close.dup3_cloexec", close(nf + 1), 0, SENTINEL);
  SYS("write.last_write_end", write(nf + 2, "c", 1), 1, SENTINEL);
  SYS("close.dup3", close(nf + 2), 0, SENTINEL);
  SYS("read.dup_data_then_eof", read(d, buf, sizeof buf), 1, SENTINEL);
  SYS("read.dup_eof", read(d, buf, sizeof buf), 0, SENTINEL);
  SYS("close.dup", close(d), 0, SENTINEL);
  SYS("close.dup_twice", close(d), -1, EBADF);

  /* fcntl on a pipe */
  SYS("pipe.fcntl", pipe(p), 0, SENTINEL);
  RCALL(g, fcntl(p[0], F_GETFL));
  check("fcntl.getfl", g.ret >= 0 ? "flags" : num(g.ret), g.err,
        fmt("accmode=%ld nonblock=%d", g.ret & O_ACCMODE, !!(g.ret & O_NONBLOCK)), "flags",
        SENTINEL, "accmode=0 nonblock=0");
  SYS("fcntl.setfl_nonblock", fcntl(p[0], F_SETFL, O_NONBLOCK), 0, SENTINEL);
  RCALL(g, fcntl(p[0], F_GETFL));
  check("fcntl.getfl_after_setfl", g.ret >= 0 ? "flags" : num(g.ret), g.err,
        fmt("accmode=%ld nonblock=%d", g.ret & O_ACCMODE, !!(g.ret & O_NONBLOCK)), "flags",
        SENTINEL, "accmode=0 nonblock=1");
  SYS("read.after_setfl_nonblock", read(p[0], buf, 1), -1, EAGAIN);
  SYS("fcntl64.setfl_blocking", fcntl64(p[0], F_SETFL, 0), 0, SENTINEL);
  RCALL(g, fcntl64(p[0], F_GETFL));
  check("fcntl64.getfl", g.ret >= 0 ? "flags" : num(g.ret), g.err,
        fmt("accmode=%ld nonblock=%d", g.ret & O_ACCMODE, !!(g.ret & O_NONBLOCK)), "flags",
        SENTINEL, "accmode=0 nonblock=0");
  SYS("fcntl.setfl_write_end_nonblock", fcntl(p[1], F_SETFL, O_NONBLOCK | O_APPEND), 0, SENTINEL);
  RCALL(g, fcntl(p[1], F_GETFL));
  check("fcntl.getfl_write_end", g.ret >= 0 ? "flags" : num(g.ret), g.err,
        fmt("accmode=%ld nonblock=%d append=%d", g.ret & O_ACCMODE, !!(g.ret & O_NONBLOCK),
            !!(g.ret & O_APPEND)),
        "flags", SENTINEL, "accmode=1 nonblock=1 append=1");
  SYS("fcntl.getfd", fcntl(p[0], F_GETFD), 0, SENTINEL);
  SYS("fcntl.setfd_cloexec", fcntl(p[0], F_SETFD, FD_CLOEXEC), 0, SENTINEL);
  SYS("fcntl.getfd_cloexec", fcntl(p[0], F_GETFD), FD_CLOEXEC, SENTINEL);
  SYS("fcntl.setfd_clear", fcntl(p[0], F_SETFD, 0), 0, SENTINEL);

  int min = nf + 10;
  RCALL(g, fcntl(p[1], F_DUPFD, min));
  int d1 = (int)g.ret;
  check("fcntl.dupfd", g.ret >= min ? ">=min" : num(g.ret), g.err,
        fmt("cloexec=%d", cloexec_of(d1)), ">=min", SENTINEL, "cloexec=0");
  RCALL(g, fcntl(p[1], F_DUPFD_CLOEXEC, min + 10));
  int d2 = (int)g.ret;
  check("fcntl.dupfd_cloexec", g.ret >= min + 10 ? ">=min" : num(g.ret), g.err,
        fmt("cloexec=%d", cloexec_of(d2)), ">=min", SENTINEL, "cloexec=1");
  RCALL(g, fcntl64(p[1], F_DUPFD_CLOEXEC, min + 20));
  int d3 = (int)g.ret;
  check("fcntl64.dupfd_cloexec", g.ret >= min + 20 ? ">=min" : num(g.ret), g.err,
        fmt("cloexec=%d", cloexec_of(d3)), ">=min", SENTINEL, "cloexec=1");
  RCALL(g, fcntl64(p[1], F_DUPFD, min + 30));
  int d4 = (int)g.ret;
  check("fcntl64.dupfd", g.ret >= min + 30 ? ">=min" : num(g.ret), g.err, "", ">=min", SENTINEL,
        "");
  SYS("fcntl.dupfd_negative_min", fcntl(p[1], F_DUPFD, -1), -1, EINVAL);
  SYS("fcntl.dupfd_huge_min", fcntl(p[1], F_DUPFD, INT_MAX), -1, EINVAL);
  SYS("fcntl.bad_cmd", fcntl(p[1], 0x7fff), -1, EINVAL);
  SYS("fcntl.setpipe_sz", fcntl(p[1], F_SETPIPE_SZ, 8192), 8192, SENTINEL);
  SYS("fcntl.getpipe_sz", fcntl(p[0], F_GETPIPE_SZ), 8192, SENTINEL);
  /* data through the F_DUPFD copies after the original write end is closed */
  SYS("close.fcntl_original_write", close(p[1]), 0, SENTINEL);
  SYS("write.fcntl_dupfd", write(d1, "1", 1), 1, SENTINEL);
  SYS("write.fcntl_dupfd_cloexec", write(d2, "2", 1), 1, SENTINEL);
  SYS("write.fcntl64_dupfd_cloexec", write(d3, "3", 1), 1, SENTINEL);
  SYS("write.fcntl64_dupfd", write(d4, "4", 1), 1, SENTINEL);
  memset(buf, 0, sizeof buf);
  RCALL(g, read(p[0], buf, sizeof buf));
  rep_sys("read.fcntl_dups", g, 4, SENTINEL, fmt("data=%s", buf), "data=1234");
  close(d1);
  close(d2);
  close(d3);
  close(d4);
  SYS("read.fcntl_dups_eof", read(p[0], buf, sizeof buf), 0, SENTINEL);
  close(p[0]);

  /* close_range: a range of our own fds only */
  int lo = nf + 60;
  SYS("pipe.close_range", pipe(p), 0, SENTINEL);
  for (int i = 0; i < 4; i++)
    if (dup2(i % 2 ? p[1] : p[0], lo + i) != lo + i)
      die("dup2 (close_range setup)");
  SYS("close_range.bad_flags", close_range(lo, lo + 3, 0x80000000u), -1, EINVAL);
  SYS("close_range.reversed", close_range(lo + 3, lo, 0), -1, EINVAL);
  SYS("close_range.cloexec", close_range(lo, lo + 1, CLOSE_RANGE_CLOEXEC), 0, SENTINEL);
  check("close_range.cloexec_flags", "0", SENTINEL,
        fmt("cloexec=%d,%d,%d", cloexec_of(lo), cloexec_of(lo + 1), cloexec_of(lo + 2)), "0",
        SENTINEL, "cloexec=1,1,0");
  SYS("close_range", close_range(lo, lo + 3, 0), 0, SENTINEL);
  check("close_range.closed", "0", SENTINEL,
        fmt("open=%d,%d,%d,%d", cloexec_of(lo) >= 0, cloexec_of(lo + 1) >= 0,
            cloexec_of(lo + 2) >= 0, cloexec_of(lo + 3) >= 0),
        "0", SENTINEL, "open=0,0,0,0");
  SYS("write.after_close_range", write(lo + 1, "x", 1), -1, EBADF);
  SYS("close.after_close_range", close(lo), -1, EBADF);
  SYS("close_range.empty", close_range(lo, lo + 3, 0), 0, SENTINEL);
  SYS("close.close_range_write", close(p[1]), 0, SENTINEL);
  SYS("read.close_range_eof", read(p[0], buf, 1), 0, SENTINEL);
  close(p[0]);
}

/* ---------------------------------------------------------------------------------------------- */
/* A regular file: read/write/fcntl locks go through the hooks' "not a tracked fd" path.          */

static void test_regular_file(void) {
  char path[] = "/tmp/threadwatch-fidelity-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    die("mkstemp");
  unlink(path);
  char out[64], in[64];
  for (int i = 0; i < 64; i++)
    out[i] = (char)('A' + i % 26);
  SYS("write.file", write(fd, out, sizeof out), 64, SENTINEL);
  SYS("lseek.file", lseek(fd, 0, SEEK_SET), 0, SENTINEL);
  RCALL(g, read(fd, in, sizeof in));
  rep_sys("read.file", g, 64, SENTINEL, fmt("same=%d", memcmp(in, out, 64) == 0), "same=1");
  SYS("read.file_eof", read(fd, in, sizeof in), 0, SENTINEL);
  lseek(fd, 10, SEEK_SET);
  SYS("__read_chk.file", __read_chk(fd, in, 8, sizeof in), 8, SENTINEL);

  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  SYS("fcntl.setlk", fcntl(fd, F_SETLK, &fl), 0, SENTINEL);
  fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  RCALL(g, fcntl(fd, F_GETLK, &fl));
  /* own locks do not conflict with themselves: F_GETLK reports F_UNLCK */
  rep_sys("fcntl.getlk", g, 0, SENTINEL, fmt("unlocked=%d", fl.l_type == F_UNLCK), "unlocked=1");
  fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  RCALL(g, fcntl64(fd, F_OFD_GETLK, &fl));
  /* an OFD lock query conflicts with the process-owned write lock */
  rep_sys("fcntl64.ofd_getlk", g, 0, SENTINEL, fmt("conflict_wr=%d", fl.l_type == F_WRLCK),
          "conflict_wr=1");
  fl = (struct flock){.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  SYS("fcntl64.setlk_unlock", fcntl64(fd, F_SETLK, &fl), 0, SENTINEL);
  struct f_owner_ex own = {.type = -1, .pid = -1};
  RCALL(g, fcntl(fd, F_GETOWN_EX, &own));
  rep_sys("fcntl.getown_ex", g, 0, SENTINEL, fmt("pid=%d", own.pid), "pid=0");
  SYS("fcntl.getlk_efault", fcntl(fd, F_GETLK, (struct flock *)8), -1, EFAULT);
  SYS("close.file", close(fd), 0, SENTINEL);
}

/* ---------------------------------------------------------------------------------------------- */
/* Signals interrupting a blocking pipe read, with and without SA_RESTART                         */

static int g_sigpipe[2];
static _Atomic long g_sig_write_ret = 12345;
static atomic_int g_sig_count;

/* The hooked write() runs inside a signal handler here (hazard 6). */
static void on_signal(int sig) {
  (void)sig;
  int saved = errno;
  g_sig_write_ret = (long)write(g_sigpipe[1], "s", 1);
  atomic_fetch_add(&g_sig_count, 1);
  errno = saved;
}

struct sigread_arg {
  int fd;
  _Atomic pid_t tid;
  atomic_int done;
  struct gate ready;
  struct res r;
  char buf[8];
};

static void *sig_reader(void *p) {
  struct sigread_arg *a = p;
  a->tid = gettid();
  gate_open(&a->ready);
  RCALL(a->r, read(a->fd, a->buf, sizeof a->buf - 1));
  a->done = 1;
  return NULL;
}

static void test_signals(void) {
  if (pipe2(g_sigpipe, O_NONBLOCK | O_CLOEXEC) != 0)
    die("pipe2 (signals)");

  /* without SA_RESTART: read returns -1 EINTR */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  if (sigaction(SIGUSR1, &sa, NULL) != 0)
    die("sigaction");
  int p[2];
  if (pipe(p) != 0)
    die("pipe");
  struct sigread_arg a;
  memset(&a, 0, sizeof a);
  gate_init(&a.ready);
  a.fd = p[0];
  pthread_t t = spawn(sig_reader, &a);
  gate_wait(&a.ready);
  wait_in_syscall(a.tid, SYS_read);
  /* A signal that lands before the read starts only runs the handler; keep signalling until one
   * interrupts the read. Give up after ~10 s and feed the pipe, which makes the check fail. */
  for (int i = 0; i < 5000 && !a.done; i++) {
    pthread_kill(t, SIGUSR1);
    nap_ms(2);
  }
  if (!a.done)
    (void)!write(p[1], "late", 4);
  join(t);
  rep_sys("read.signal_without_sa_restart", a.r, -1, EINTR, "", "");
  check("write.in_signal_handler", num(g_sig_write_ret), SENTINEL, "", "1", SENTINEL, "");
  close(p[0]);
  close(p[1]);
  gate_close(&a.ready);

  /* with SA_RESTART: the read is restarted and returns the data written afterwards */
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGUSR2, &sa, NULL) != 0)
    die("sigaction");
  if (pipe(p) != 0)
    die("pipe");
  memset(&a, 0, sizeof a);
  gate_init(&a.ready);
  a.fd = p[0];
  g_sig_write_ret = 12345;
  int before = g_sig_count;
  t = spawn(sig_reader, &a);
  gate_wait(&a.ready);
  wait_in_syscall(a.tid, SYS_read);
  pthread_kill(t, SIGUSR2);
  for (int i = 0; i < 10000 && g_sig_count == before; i++)
    nap_ms(1);
  wait_in_syscall(a.tid, SYS_read);
  check("read.sa_restart_after_signal", "0", SENTINEL,
        fmt("handled=%d done=%d", g_sig_count > before, (int)a.done), "0", SENTINEL,
        "handled=1 done=0");
  (void)!write(p[1], "data", 4);
  join(t);
  rep_sys("read.signal_with_sa_restart", a.r, 4, SENTINEL, fmt("data=%s", a.buf), "data=data");
  check("write.in_signal_handler_restart", num(g_sig_write_ret), SENTINEL, "", "1", SENTINEL, "");
  close(p[0]);
  close(p[1]);
  gate_close(&a.ready);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
  close(g_sigpipe[0]);
  close(g_sigpipe[1]);
}

/* ---------------------------------------------------------------------------------------------- */
/* posix_spawn, posix_spawnp, system (hooked: they make the pipes open at the time shareable) */

extern char **environ;

/* glibc's spawn code may leave errno set on success: only the result is compared to expectations
 * (errno still has to match the run without the preload). */
static void spawn_rep(const char *name, struct res r, int want) {
  check(name, ename(r.ret), r.err, "", ename(want), ANY, "");
}

static void test_spawn(void) {
  pid_t pid = 0;
  char *argv_true[] = {"true", NULL};
  struct res r;
  RCALL(r, posix_spawn(&pid, "/bin/true", NULL, NULL, argv_true, environ));
  spawn_rep("posix_spawn", r, 0);
  int st = -1;
  if (r.ret == 0) waitpid(pid, &st, 0);
  RCALL(r, posix_spawn(&pid, "/nonexistent/prog", NULL, NULL, argv_true, environ));
  if (r.ret == 0) waitpid(pid, &st, 0);
  spawn_rep("posix_spawn.missing", r, ENOENT);
  RCALL(r, posix_spawnp(&pid, "true", NULL, NULL, argv_true, environ));
  spawn_rep("posix_spawnp", r, 0);
  if (r.ret == 0) waitpid(pid, &st, 0);
  RCALL(r, system("exit 3"));
  check("system.exit3", num(r.ret), r.err, "", num(3 << 8), ANY, "");
}

/* fork */

static void *child_thread_prints(void *p) {
  struct gate *gt = p;
  gate_wait(gt);
  check("thread_after_main_pthread_exit", "0", SENTINEL, "", "0", SENTINEL, "");
  fflush(stdout);
  return NULL;
}

/* A few of each kind of call, run in the forked child. */
static void child_checks(pthread_mutex_t *held_by_other, pthread_mutex_t *held_by_main) {
  PT("pthread_mutex_trylock.held_by_parent_thread", pthread_mutex_trylock(held_by_other), EBUSY);
  PT("pthread_mutex_unlock.errorcheck_held_by_parent", pthread_mutex_unlock(held_by_main), EPERM);
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  PT("pthread_mutex_lock", pthread_mutex_lock(&m), 0);
  PT("pthread_mutex_trylock.locked", pthread_mutex_trylock(&m), EBUSY);
  PT("pthread_mutex_unlock", pthread_mutex_unlock(&m), 0);
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  pthread_mutex_lock(&m);
  struct timespec ts = at(CLOCK_REALTIME, -1000);
  PT("pthread_cond_timedwait.past", pthread_cond_timedwait(&c, &m, &ts), ETIMEDOUT);
  pthread_mutex_unlock(&m);
  pthread_t t;
  void *rv = NULL;
  PT("pthread_create", pthread_create(&t, NULL, ret_arg, (void *)3), 0);
  RCALL(g, pthread_join(t, &rv));
  rep_pt("pthread_join", g, 0, fmt("retval=%ld", (long)rv), "retval=3");
  int p[2];
  char buf[8] = "";
  SYS("pipe", pipe(p), 0, SENTINEL);
  SYS("write", write(p[1], "kid", 3), 3, SENTINEL);
  RCALL(g, read(p[0], buf, sizeof buf - 1));
  rep_sys("read", g, 3, SENTINEL, fmt("data=%s", buf), "data=kid");
  SYS("read.closed_fd", read(g_badfd, buf, 1), -1, EBADF);
  close(p[0]);
  close(p[1]);
  int e = eventfd(0, EFD_NONBLOCK);
  eventfd_t v;
  SYS("eventfd_read.zero", eventfd_read(e, &v), -1, EAGAIN);
  close(e);
  /* Like a program about to exec: close every fd above stderr, then carry on. */
  SYS("close_range.all_above_stderr", close_range(3, ~0u, 0), 0, SENTINEL);
  SYS("pipe.after_close_range", pipe(p), 0, SENTINEL);
  SYS("write.after_close_range", write(p[1], "ok", 2), 2, SENTINEL);
  SYS("read.after_close_range", read(p[0], buf, sizeof buf - 1), 2, SENTINEL);
  PT("pthread_create.after_close_range", pthread_create(&t, NULL, ret_arg, (void *)4), 0);
  RCALL(g, pthread_join(t, &rv));
  rep_pt("pthread_join.after_close_range", g, 0, fmt("retval=%ld", (long)rv), "retval=4");
}

static void test_fork(void) {
  pthread_mutex_t other = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_t mine = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
  struct holder h;
  holder_start(&h, H_MUTEX, &other);
  pthread_mutex_lock(&mine);

  fflush(stdout);
  fflush(stderr);
  errno = SENTINEL;
  pid_t pid = fork();
  int fork_err = errno;
  if (pid == 0) {
    g_prefix = "fork.child.";
    check("fork", "0", fork_err, "", "0", SENTINEL, "");
    child_checks(&other, &mine);
    fflush(stdout);
    exit(7);
  }
  int st = 0;
  RCALL(g, waitpid(pid, &st, 0));
  check("fork", pid > 0 ? "child_pid" : num(pid), fork_err, "", "child_pid", SENTINEL, "");
  check("waitpid.fork_child", g.ret == pid ? "child_pid" : num(g.ret), g.err,
        fmt("exited=%d status=%d", WIFEXITED(st), WEXITSTATUS(st)), "child_pid", SENTINEL,
        "exited=1 status=7");
  PT("pthread_mutex_unlock.after_fork", pthread_mutex_unlock(&mine), 0);
  holder_stop(&h, "fork.parent");

  /* a child whose main thread leaves through pthread_exit: the process ends, with status 0,
   * when its last thread returns */
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    g_prefix = "fork.child2.";
    struct gate *gt = malloc(sizeof *gt);
    gate_init(gt);
    pthread_t t;
    if (pthread_create(&t, NULL, child_thread_prints, gt) != 0)
      _exit(9);
    gate_open(gt);
    pthread_exit(NULL);
  }
  st = 0;
  RCALL(g, waitpid(pid, &st, 0));
  check("waitpid.child_main_pthread_exit", g.ret == pid ? "child_pid" : num(g.ret), g.err,
        fmt("exited=%d status=%d", WIFEXITED(st), WEXITSTATUS(st)), "child_pid", SENTINEL,
        "exited=1 status=0");
}

/* ---------------------------------------------------------------------------------------------- */
/* Issue 14: semaphores, barriers, spinlocks, C11 threads, sockets, multiplexers, futex, sleeps    */

/* A thread that acts once the main thread (or another) sits in a given system call: the blocking
 * call of the check is then really blocking when it is satisfied. */
struct kick {
  pid_t waiter;
  long nr;
  void (*act)(struct kick *);
  sem_t *sem;
  int fd;
  _Atomic int *word;
  pthread_barrier_t *bar;
  mtx_t *mtx;
  cnd_t *cnd;
};

static void *kick_main(void *p) {
  struct kick *k = p;
  wait_in_syscall(k->waiter, k->nr);
  k->act(k);
  return NULL;
}

static pthread_t kick_when_blocked(struct kick *k) {
  k->waiter = gettid();
  return spawn(kick_main, k);
}

static void act_sem_post(struct kick *k) { sem_post(k->sem); }
static void act_write_byte(struct kick *k) {
  if (write(k->fd, "k", 1) != 1)
    die("write (kick)");
}
static void act_futex_wake(struct kick *k) {
  atomic_store(k->word, 1);
  syscall(SYS_futex, k->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
static void act_cnd_signal(struct kick *k) {
  mtx_lock(k->mtx);
  atomic_store(k->word, 1);
  cnd_signal(k->cnd);
  mtx_unlock(k->mtx);
}

static void *cancel_in_sem_wait(void *p) {
  struct cancel_arg *a = p;
  int r = 0;
  pthread_cleanup_push(cleanup_flag, a);
  gate_open(&a->ready);
  r = sem_wait((sem_t *)(void *)&a->c);
  pthread_cleanup_pop(0);
  return (void *)(long)r;
}

static void *cancel_in_recv(void *p) {
  struct cancel_arg *a = p;
  char b;
  ssize_t n = 0;
  pthread_cleanup_push(cleanup_flag, a);
  gate_open(&a->ready);
  n = recv(a->fd, &b, 1, 0);
  pthread_cleanup_pop(0);
  return (void *)n;
}

static void *cancel_in_poll(void *p) {
  struct cancel_arg *a = p;
  int r = 0;
  struct pollfd pf = {a->fd, POLLIN, 0};
  pthread_cleanup_push(cleanup_flag, a);
  gate_open(&a->ready);
  r = poll(&pf, 1, -1);
  pthread_cleanup_pop(0);
  return (void *)(long)r;
}

static void *cancel_in_nanosleep(void *p) {
  struct cancel_arg *a = p;
  int r = 0;
  struct timespec ts = {3600, 0};
  pthread_cleanup_push(cleanup_flag, a);
  gate_open(&a->ready);
  r = nanosleep(&ts, NULL);
  pthread_cleanup_pop(0);
  return (void *)(long)r;
}

/* Runs fn in a new thread, cancels it once it is blocked, and reports the join. */
static void cancel_blocked(const char *name, void *(*fn)(void *), struct cancel_arg *a, long nr) {
  gate_init(&a->ready);
  a->target = 0;
  pthread_t t = spawn(fn, a);
  gate_wait(&a->ready);
  (void)nr;
  PT(name, pthread_cancel(t), 0);
  cancel_join_report(name, t, a);
  gate_close(&a->ready);
}

static void test_sem(void) {
  sem_t s;
  SYS("sem_init", sem_init(&s, 0, 1), 0, SENTINEL);
  SYS("sem_init.einval", sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1u), -1, EINVAL);
  SYS("sem_wait.token", sem_wait(&s), 0, SENTINEL);
  SYS("sem_trywait.empty", sem_trywait(&s), -1, EAGAIN);
  struct timespec past = at(CLOCK_REALTIME, -1000), bad = bad_nsec();
  SYS("sem_timedwait.past", sem_timedwait(&s, &past), -1, ETIMEDOUT);
  SYS("sem_timedwait.bad_nsec", sem_timedwait(&s, &bad), -1, EINVAL);
  struct timespec soon = at(CLOCK_MONOTONIC, 20);
  SYS("sem_clockwait.timeout", sem_clockwait(&s, CLOCK_MONOTONIC, &soon), -1, ETIMEDOUT);
  SYS("sem_clockwait.bad_clock", sem_clockwait(&s, BAD_CLOCK, &soon), -1, EINVAL);
  SYS("sem_post", sem_post(&s), 0, SENTINEL);
  SYS("sem_trywait.token", sem_trywait(&s), 0, SENTINEL);
  struct kick k = {.nr = SYS_futex, .act = act_sem_post, .sem = &s};
  pthread_t t = kick_when_blocked(&k);
  SYS("sem_wait.blocking", sem_wait(&s), 0, SENTINEL);
  join(t);
  k = (struct kick){.nr = SYS_futex, .act = act_sem_post, .sem = &s};
  t = kick_when_blocked(&k);
  struct timespec later = at(CLOCK_REALTIME, 60000);
  SYS("sem_timedwait.blocking", sem_timedwait(&s, &later), 0, SENTINEL);
  join(t);
  sem_t full;
  SYS("sem_init.max", sem_init(&full, 0, SEM_VALUE_MAX), 0, SENTINEL);
  SYS("sem_post.eoverflow", sem_post(&full), -1, EOVERFLOW);
  SYS("sem_destroy", sem_destroy(&full), 0, SENTINEL);
  SYS("sem_destroy.2", sem_destroy(&s), 0, SENTINEL);

  struct cancel_arg a;
  memset(&a, 0, sizeof a);
  sem_init((sem_t *)(void *)&a.c, 0, 0);
  cancel_blocked("pthread_cancel.in_sem_wait", cancel_in_sem_wait, &a, SYS_futex);

  char name[64];
  snprintf(name, sizeof name, "/tw-fidelity-%d", (int)getpid());
  RCALL(g, sem_open(name, O_CREAT | O_EXCL, 0600, 1));
  sem_t *named = g.ret == (long)(intptr_t)SEM_FAILED ? NULL : (sem_t *)(intptr_t)g.ret;
  check("sem_open.create", named ? "sem" : "SEM_FAILED", g.err, "", "sem", SENTINEL, "");
  RCALL(g, sem_open(name, O_CREAT | O_EXCL, 0600, 1));
  check("sem_open.eexist", g.ret == (long)(intptr_t)SEM_FAILED ? "SEM_FAILED" : "sem", g.err, "",
        "SEM_FAILED", EEXIST, "");
  RCALL(g, sem_open("/tw-fidelity-no-such-sem", 0));
  check("sem_open.enoent", g.ret == (long)(intptr_t)SEM_FAILED ? "SEM_FAILED" : "sem", g.err, "",
        "SEM_FAILED", ENOENT, "");
  if (named) {
    SYS("sem_wait.named", sem_wait(named), 0, SENTINEL);
    SYS("sem_post.named", sem_post(named), 0, SENTINEL);
    SYS("sem_close", sem_close(named), 0, SENTINEL);
  }
  sem_unlink(name);
}

struct bar_arg {
  pthread_barrier_t *b;
  struct res r;
};

static void *barrier_waiter(void *p) {
  struct bar_arg *a = p;
  RCALL(a->r, pthread_barrier_wait(a->b));
  return NULL;
}

static void test_barrier(void) {
  pthread_barrier_t b;
  PT("pthread_barrier_init.zero", pthread_barrier_init(&b, NULL, 0), EINVAL);
  PT("pthread_barrier_init", pthread_barrier_init(&b, NULL, 1), 0);
  PT("pthread_barrier_wait.alone", pthread_barrier_wait(&b), PTHREAD_BARRIER_SERIAL_THREAD);
  PT("pthread_barrier_destroy", pthread_barrier_destroy(&b), 0);
  PT("pthread_barrier_init.three", pthread_barrier_init(&b, NULL, 3), 0);
  for (int round = 0; round < 3; round++) {
    struct bar_arg x = {.b = &b}, y = {.b = &b};
    pthread_t t1 = spawn(barrier_waiter, &x), t2 = spawn(barrier_waiter, &y);
    RCALL(g, pthread_barrier_wait(&b));
    join(t1);
    join(t2);
    int serial = (g.ret == PTHREAD_BARRIER_SERIAL_THREAD) + (x.r.ret == PTHREAD_BARRIER_SERIAL_THREAD) +
                 (y.r.ret == PTHREAD_BARRIER_SERIAL_THREAD);
    int zero = (g.ret == 0) + (x.r.ret == 0) + (y.r.ret == 0);
    check(fmt("pthread_barrier_wait.round%d", round), "ok", g.err,
          fmt("serial=%d zero=%d errnos=%s,%s", serial, zero, ename(x.r.err), ename(y.r.err)), "ok",
          SENTINEL, "serial=1 zero=2 errnos=SENTINEL,SENTINEL");
  }
  PT("pthread_barrier_destroy.three", pthread_barrier_destroy(&b), 0);
  pthread_barrierattr_t attr;
  pthread_barrierattr_init(&attr);
  pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  PT("pthread_barrier_init.pshared", pthread_barrier_init(&b, &attr, 1), 0);
  PT("pthread_barrier_wait.pshared", pthread_barrier_wait(&b), PTHREAD_BARRIER_SERIAL_THREAD);
  PT("pthread_barrier_destroy.pshared", pthread_barrier_destroy(&b), 0);
  pthread_barrierattr_destroy(&attr);
}

struct spin_arg {
  pthread_spinlock_t *s;
  struct gate held;
};

static void *spin_holder(void *p) {
  struct spin_arg *a = p;
  pthread_spin_lock(a->s);
  gate_open(&a->held);
  nap_ms(20);
  pthread_spin_unlock(a->s);
  return NULL;
}

static void test_spin(void) {
  pthread_spinlock_t s;
  PT("pthread_spin_init", pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE), 0);
  PT("pthread_spin_lock", pthread_spin_lock(&s), 0);
  PT("pthread_spin_trylock.busy", pthread_spin_trylock(&s), EBUSY);
  PT("pthread_spin_unlock", pthread_spin_unlock(&s), 0);
  PT("pthread_spin_trylock", pthread_spin_trylock(&s), 0);
  PT("pthread_spin_unlock.2", pthread_spin_unlock(&s), 0);
  struct spin_arg a = {.s = &s};
  gate_init(&a.held);
  pthread_t t = spawn(spin_holder, &a);
  gate_wait(&a.held);
  PT("pthread_spin_lock.contended", pthread_spin_lock(&s), 0);
  PT("pthread_spin_unlock.3", pthread_spin_unlock(&s), 0);
  join(t);
  gate_close(&a.held);
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&m);
  PT("pthread_spin_lock.nested", pthread_spin_lock(&s), 0);
  PT("pthread_spin_unlock.nested", pthread_spin_unlock(&s), 0);
  pthread_mutex_unlock(&m);
  PT("pthread_spin_destroy", pthread_spin_destroy(&s), 0);
  PT("pthread_spin_init.pshared", pthread_spin_init(&s, PTHREAD_PROCESS_SHARED), 0);
  PT("pthread_spin_destroy.2", pthread_spin_destroy(&s), 0);
}

static int c11_ret(void *arg) { return (int)(intptr_t)arg; }
static int c11_exit(void *arg) {
  thrd_exit((int)(intptr_t)arg);
}

struct c11_lock_arg {
  mtx_t *m;
  struct res r;
};

static int c11_timedlock(void *p) {
  struct c11_lock_arg *a = p;
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  ts.tv_nsec += 20 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  RCALL(a->r, mtx_timedlock(a->m, &ts));
  return 0;
}

static int c11_trylock(void *p) {
  struct c11_lock_arg *a = p;
  RCALL(a->r, mtx_trylock(a->m));
  return 0;
}

static void test_c11(void) {
  thrd_t t;
  int res = -1;
  PT("thrd_create", thrd_create(&t, c11_ret, (void *)(intptr_t)7), thrd_success);
  RCALL(g, thrd_join(t, &res));
  rep_pt("thrd_join", g, thrd_success, fmt("res=%d", res), "res=7");
  PT("thrd_create.exit", thrd_create(&t, c11_exit, (void *)(intptr_t)9), thrd_success);
  RCALL(g, thrd_join(t, &res));
  rep_pt("thrd_join.exit", g, thrd_success, fmt("res=%d", res), "res=9");
  PT("thrd_create.2", thrd_create(&t, c11_ret, NULL), thrd_success);
  PT("thrd_join.null_res", thrd_join(t, NULL), thrd_success);
  PT("thrd_create.detach", thrd_create(&t, c11_ret, NULL), thrd_success);
  PT("thrd_detach", thrd_detach(t), thrd_success);

  mtx_t m, r;
  PT("mtx_init.plain", mtx_init(&m, mtx_plain), thrd_success);
  PT("mtx_init.recursive", mtx_init(&r, mtx_plain | mtx_recursive), thrd_success);
  PT("mtx_lock", mtx_lock(&m), thrd_success);
  struct c11_lock_arg la = {.m = &m};
  PT("thrd_create.trylock", thrd_create(&t, c11_trylock, &la), thrd_success);
  thrd_join(t, NULL);
  rep_pt("mtx_trylock.busy", la.r, thrd_busy, "", "");
  PT("mtx_unlock", mtx_unlock(&m), thrd_success);
  mtx_t tm;
  PT("mtx_init.timed", mtx_init(&tm, mtx_timed), thrd_success);
  PT("mtx_lock.timed", mtx_lock(&tm), thrd_success);
  la.m = &tm;
  PT("thrd_create.timedlock", thrd_create(&t, c11_timedlock, &la), thrd_success);
  thrd_join(t, NULL);
  rep_pt("mtx_timedlock.timedout", la.r, thrd_timedout, "", "");
  PT("mtx_unlock.timed", mtx_unlock(&tm), thrd_success);
  PT("mtx_lock.recursive1", mtx_lock(&r), thrd_success);
  PT("mtx_lock.recursive2", mtx_lock(&r), thrd_success);
  PT("mtx_trylock.recursive", mtx_trylock(&r), thrd_success);
  PT("mtx_unlock.recursive1", mtx_unlock(&r), thrd_success);
  PT("mtx_unlock.recursive2", mtx_unlock(&r), thrd_success);
  PT("mtx_unlock.recursive3", mtx_unlock(&r), thrd_success);

  cnd_t c;
  _Atomic int flag = 0;
  PT("cnd_init", cnd_init(&c), thrd_success);
  PT("cnd_signal.nobody", cnd_signal(&c), thrd_success);
  PT("cnd_broadcast.nobody", cnd_broadcast(&c), thrd_success);
  mtx_lock(&m);
  struct timespec soon;
  timespec_get(&soon, TIME_UTC);
  soon.tv_nsec += 20 * 1000 * 1000;
  if (soon.tv_nsec >= 1000000000L) soon.tv_sec++, soon.tv_nsec -= 1000000000L;
  PT("cnd_timedwait.timedout", cnd_timedwait(&c, &m, &soon), thrd_timedout);
  struct kick k = {.nr = SYS_futex, .act = act_cnd_signal, .mtx = &m, .cnd = &c, .word = &flag};
  pthread_t kt = kick_when_blocked(&k);
  int rc = thrd_success;
  errno = SENTINEL;
  while (!atomic_load(&flag) && rc == thrd_success) rc = cnd_wait(&c, &m);
  g.ret = rc;
  g.err = errno;
  rep_pt("cnd_wait.signalled", g, thrd_success, fmt("flag=%d", atomic_load(&flag)), "flag=1");
  mtx_unlock(&m);
  join(kt);
  errno = SENTINEL;
  cnd_destroy(&c);
  check("cnd_destroy", "void", errno, "", "void", SENTINEL, "");
  errno = SENTINEL;
  mtx_destroy(&m);
  mtx_destroy(&r);
  mtx_destroy(&tm);
  check("mtx_destroy", "void", errno, "", "void", SENTINEL, "");
  struct timespec ms = {0, 1000 * 1000};
  PT("thrd_sleep", thrd_sleep(&ms, NULL), 0);
}

extern ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
extern ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                              struct sockaddr *addr, socklen_t *len);

static void test_socket(void) {
  int sv[2], nb[2];
  char buf[64];
  FD("socket", socket(AF_INET, SOCK_STREAM, 0), 1, SENTINEL);
  int l = (int)g.ret;
  FD("socket.eafnosupport", socket(12345, SOCK_STREAM, 0), 0, EAFNOSUPPORT);
  SYS("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0, SENTINEL);
  SYS("socketpair.eopnotsupp", socketpair(AF_INET, SOCK_STREAM, 0, nb), -1, EOPNOTSUPP);
  SYS("socketpair.nonblock", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, nb), 0, SENTINEL);
  SYS("send", send(sv[0], "abc", 3, 0), 3, SENTINEL);
  SYS("recv", recv(sv[1], buf, sizeof buf, 0), 3, SENTINEL);
  SYS("recv.dontwait", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), -1, EAGAIN);
  SYS("recv.nonblock", recv(nb[1], buf, sizeof buf, 0), -1, EAGAIN);
  SYS("read.socket_nonblock", read(nb[1], buf, sizeof buf), -1, EAGAIN);
  SYS("recv.ebadf", recv(g_badfd, buf, 1, 0), -1, EBADF);
  SYS("write.socketpair", write(sv[1], "xy", 2), 2, SENTINEL);
  SYS("read.socketpair", read(sv[0], buf, sizeof buf), 2, SENTINEL);
  SYS("sendto", sendto(sv[0], "q", 1, 0, NULL, 0), 1, SENTINEL);
  SYS("recvfrom", recvfrom(sv[1], buf, sizeof buf, 0, NULL, NULL), 1, SENTINEL);
  SYS("send.2", send(sv[0], "zz", 2, 0), 2, SENTINEL);
  SYS("__recv_chk", __recv_chk(sv[1], buf, 1, sizeof buf, 0), 1, SENTINEL);
  SYS("__recvfrom_chk", __recvfrom_chk(sv[1], buf, 1, sizeof buf, 0, NULL, NULL), 1, SENTINEL);
  /* an fd passed in SCM_RIGHTS */
  int p[2];
  if (pipe(p) != 0) die("pipe");
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = {.iov_base = "m", .iov_len = 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                      .msg_controllen = sizeof u.b};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
  SYS("sendmsg.scm_rights", sendmsg(sv[0], &mh, 0), 1, SENTINEL);
  char rb[CMSG_SPACE(sizeof(int))];
  struct iovec riov = {.iov_base = buf, .iov_len = sizeof buf};
  struct msghdr rh = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rb, .msg_controllen = sizeof rb};
  SYS("recvmsg.scm_rights", recvmsg(sv[1], &rh, 0), 1, SENTINEL);
  int passed = -1;
  if (CMSG_FIRSTHDR(&rh)) memcpy(&passed, CMSG_DATA(CMSG_FIRSTHDR(&rh)), sizeof(int));
  SYS("write.passed_fd", write(passed, "w", 1), 1, SENTINEL);
  SYS("read.through_passed_fd", read(p[0], buf, 1), 1, SENTINEL);
  close(passed);
  close(p[0]);
  close(p[1]);
  /* a blocking recv and read that a thread satisfies */
  struct kick k = {.nr = SYS_recvfrom, .act = act_write_byte, .fd = sv[0]};
  pthread_t t = kick_when_blocked(&k);
  SYS("recv.blocking", recv(sv[1], buf, 1, 0), 1, SENTINEL);
  join(t);
  k = (struct kick){.nr = SYS_read, .act = act_write_byte, .fd = sv[1]};
  t = kick_when_blocked(&k);
  SYS("read.socketpair_blocking", read(sv[0], buf, 1), 1, SENTINEL);
  join(t);
  /* TCP on localhost: listen, connect, accept, accept4, a refused connect */
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(l, (struct sockaddr *)&a, &alen) != 0 ||
      listen(l, 8) != 0)
    die("bind/listen");
  int on = 1;
  SYS("ioctl.fionbio_on", ioctl(l, FIONBIO, &on), 0, SENTINEL);
  FD("accept.nonblocking_empty", accept(l, NULL, NULL), 0, EAGAIN);
  on = 0;
  SYS("ioctl.fionbio_off", ioctl(l, FIONBIO, &on), 0, SENTINEL);
  FD("socket.client", socket(AF_INET, SOCK_STREAM, 0), 1, SENTINEL);
  int c = (int)g.ret;
  SYS("connect", connect(c, (struct sockaddr *)&a, sizeof a), 0, SENTINEL);
  FD("accept", accept(l, NULL, NULL), 1, SENTINEL);
  int s1 = (int)g.ret;
  FD("socket.client2", socket(AF_INET, SOCK_STREAM, 0), 1, SENTINEL);
  int c2 = (int)g.ret;
  SYS("connect.2", connect(c2, (struct sockaddr *)&a, sizeof a), 0, SENTINEL);
  FD("accept4.nonblock", accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), 1, SENTINEL);
  int s2 = (int)g.ret;
  SYS("recv.accepted_nonblock", recv(s2, buf, 1, 0), -1, EAGAIN);
  FD("accept4.einval", accept4(l, NULL, NULL, 0x7fff0000), 0, EINVAL);
  int avail = -1;
  SYS("send.tcp", send(c, "hello", 5, 0), 5, SENTINEL);
  SYS("recv.tcp_waitall", recv(s1, buf, 5, MSG_WAITALL), 5, SENTINEL);
  SYS("ioctl.fionread", ioctl(s1, FIONREAD, &avail), 0, SENTINEL);
  struct timeval tv = {0, 10 * 1000};
  SYS("setsockopt.rcvtimeo", setsockopt(s1, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0, SENTINEL);
  SYS("recv.rcvtimeo", recv(s1, buf, 1, 0), -1, EAGAIN);
  SYS("setsockopt.einval", setsockopt(s1, SOL_SOCKET, SO_RCVTIMEO, &tv, 1), -1, EINVAL);
  SYS("shutdown", shutdown(c, SHUT_WR), 0, SENTINEL);
  SYS("recv.eof", recv(s1, buf, 1, 0), 0, SENTINEL);
  SYS("send.epipe", send(c, "x", 1, MSG_NOSIGNAL), -1, EPIPE);
  close(l);
  FD("socket.refused", socket(AF_INET, SOCK_STREAM, 0), 1, SENTINEL);
  int c3 = (int)g.ret;
  SYS("connect.econnrefused", connect(c3, (struct sockaddr *)&a, sizeof a), -1, ECONNREFUSED);
  SYS("connect.ebadf", connect(g_badfd, (struct sockaddr *)&a, sizeof a), -1, EBADF);
  SYS("ioctl.ebadf", ioctl(g_badfd, FIONBIO, &on), -1, EBADF);
  int fds[] = {c, s1, c2, s2, c3};
  for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++) close(fds[i]);

  struct cancel_arg ca;
  memset(&ca, 0, sizeof ca);
  ca.fd = sv[1];
  cancel_blocked("pthread_cancel.in_recv", cancel_in_recv, &ca, SYS_recvfrom);
  for (int i = 0; i < 2; i++) close(sv[i]), close(nb[i]);
}

static void test_mux(void) {
  int p[2];
  char b;
  if (pipe(p) != 0) die("pipe");
  struct pollfd pf = {p[0], POLLIN, 0};
  SYS("poll.timeout", poll(&pf, 1, 10), 0, SENTINEL);
  SYS("poll.zero", poll(&pf, 1, 0), 0, SENTINEL);
  SYS("poll.sleep", poll(NULL, 0, 5), 0, SENTINEL);
  if (write(p[1], "r", 1) != 1) die("write");
  RCALL(g, poll(&pf, 1, -1));
  rep_sys("poll.ready", g, 1, SENTINEL, fmt("revents=%d", pf.revents), fmt("revents=%d", POLLIN));
  struct pollfd bad = {g_badfd, POLLIN, 0};
  RCALL(g, poll(&bad, 1, 0));
  rep_sys("poll.pollnval", g, 1, SENTINEL, fmt("revents=%d", bad.revents), fmt("revents=%d", POLLNVAL));
  struct pollfd *volatile badpf = (struct pollfd *)8;
  volatile nfds_t huge = (nfds_t)1 << 30;
  SYS("poll.efault", poll(badpf, 1, 0), -1, EFAULT);
  SYS("poll.einval", poll(&pf, huge, 0), -1, EINVAL);
  struct timespec ts = {0, 5 * 1000 * 1000}, zero = {0, 0}, badts = {0, BAD_NSEC};
  SYS("ppoll.ready", ppoll(&pf, 1, &ts, NULL), 1, SENTINEL);
  SYS("ppoll.einval", ppoll(&pf, 1, &badts, NULL), -1, EINVAL);
  if (read(p[0], &b, 1) != 1) die("read");
  SYS("ppoll.timeout", ppoll(&pf, 1, &ts, NULL), 0, SENTINEL);
  SYS("ppoll.zero", ppoll(&pf, 1, &zero, NULL), 0, SENTINEL);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  struct timeval tv = {0, 5000};
  SYS("select.timeout", select(p[0] + 1, &r, NULL, NULL, &tv), 0, SENTINEL);
  int closed = dup(p[0]); /* a low number, closed: select ignores numbers past the fd table */
  close(closed);
  FD_ZERO(&r);
  FD_SET(closed, &r);
  SYS("select.ebadf", select(closed + 1, &r, NULL, NULL, NULL), -1, EBADF);
  SYS("select.einval", select(-1, NULL, NULL, NULL, &tv), -1, EINVAL);
  if (write(p[1], "r", 1) != 1) die("write");
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  SYS("select.ready", select(p[0] + 1, &r, NULL, NULL, NULL), 1, SENTINEL);
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  SYS("pselect.ready", pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL), 1, SENTINEL);
  if (read(p[0], &b, 1) != 1) die("read");
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  SYS("pselect.timeout", pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL), 0, SENTINEL);

  FD("epoll_create.einval", epoll_create(0), 0, EINVAL);
  FD("epoll_create1.einval", epoll_create1(0x1234), 0, EINVAL);
  FD("epoll_create1", epoll_create1(EPOLL_CLOEXEC), 1, SENTINEL);
  int ep = (int)g.ret;
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
  SYS("epoll_ctl.add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0, SENTINEL);
  SYS("epoll_ctl.eexist", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), -1, EEXIST);
  SYS("epoll_ctl.enoent", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), -1, ENOENT);
  SYS("epoll_ctl.ebadf", epoll_ctl(ep, EPOLL_CTL_ADD, g_badfd, &ev), -1, EBADF);
  SYS("epoll_ctl.mod", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), 0, SENTINEL);
  struct epoll_event got;
  SYS("epoll_wait.zero", epoll_wait(ep, &got, 1, 0), 0, SENTINEL);
  SYS("epoll_wait.timeout", epoll_wait(ep, &got, 1, 5), 0, SENTINEL);
  SYS("epoll_wait.einval", epoll_wait(ep, &got, 0, 0), -1, EINVAL);
  SYS("epoll_wait.ebadf", epoll_wait(g_badfd, &got, 1, 0), -1, EBADF);
  SYS("epoll_pwait.timeout", epoll_pwait(ep, &got, 1, 5, NULL), 0, SENTINEL);
  RCALL(g, epoll_pwait2(ep, &got, 1, &ts, NULL));
  rep_sys("epoll_pwait2.timeout", g, g.ret, g.ret == 0 ? SENTINEL : ENOSYS, "", "");
  struct kick k = {.nr = SYS_epoll_wait, .act = act_write_byte, .fd = p[1]};
  pthread_t t = kick_when_blocked(&k);
  RCALL(g, epoll_wait(ep, &got, 1, -1));
  rep_sys("epoll_wait.blocking", g, 1, SENTINEL, fmt("fd_is_pipe=%d", got.data.fd == p[0]),
          "fd_is_pipe=1");
  join(t);
  if (read(p[0], &b, 1) != 1) die("read");
  k = (struct kick){.nr = SYS_poll, .act = act_write_byte, .fd = p[1]};
  t = kick_when_blocked(&k);
  pf.revents = 0;
  SYS("poll.blocking", poll(&pf, 1, -1), 1, SENTINEL);
  join(t);
  if (read(p[0], &b, 1) != 1) die("read");
  SYS("epoll_ctl.del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), 0, SENTINEL);
  SYS("close.epoll", close(ep), 0, SENTINEL);

  struct cancel_arg ca;
  memset(&ca, 0, sizeof ca);
  ca.fd = p[0];
  cancel_blocked("pthread_cancel.in_poll", cancel_in_poll, &ca, SYS_poll);
  close(p[0]);
  close(p[1]);
}

static void test_futex_sleep(void) {
  RCALL(g, syscall(SYS_getpid));
  check("syscall.getpid", g.ret == getpid() ? "pid" : num(g.ret), g.err, "", "pid", SENTINEL, "");
  RCALL(g, syscall(SYS_write, -1, "x", 1, 0, 0, 0));
  rep_sys("syscall.write_ebadf", g, -1, EBADF, "", "");
  SYS("syscall.enosys", syscall(100000), -1, ENOSYS);
  _Atomic int w = 0;
  SYS("futex.wait_eagain", syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), -1, EAGAIN);
  struct timespec ts = {0, 5 * 1000 * 1000};
  SYS("futex.wait_timeout", syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0), -1,
      ETIMEDOUT);
  SYS("futex.wake_nobody", syscall(SYS_futex, &w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0, SENTINEL);
  SYS("futex.einval", syscall(SYS_futex, &w, 12345, 0, NULL, NULL, 0), -1, ENOSYS);
  struct kick k = {.nr = SYS_futex, .act = act_futex_wake, .word = &w};
  pthread_t t = kick_when_blocked(&k);
  long rc;
  do {
    RCALL(g, syscall(SYS_futex, &w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
    rc = g.ret;
  } while (rc == -1 && g.err == EINTR);
  rep_sys("futex.wait_woken", g, 0, SENTINEL, fmt("word=%d", atomic_load(&w)), "word=1");
  join(t);

  struct timespec one = {0, 1000 * 1000}, bad = {0, BAD_NSEC};
  SYS("nanosleep", nanosleep(&one, NULL), 0, SENTINEL);
  SYS("nanosleep.einval", nanosleep(&bad, NULL), -1, EINVAL);
  SYS("nanosleep.zero", nanosleep(&(struct timespec){0, 0}, NULL), 0, SENTINEL);
  PT("clock_nanosleep", clock_nanosleep(CLOCK_MONOTONIC, 0, &one, NULL), 0);
  PT("clock_nanosleep.bad_clock", clock_nanosleep(BAD_CLOCK, 0, &one, NULL), EINVAL);
  struct timespec past = at(CLOCK_MONOTONIC, -10);
  PT("clock_nanosleep.abstime_past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);
  SYS("usleep", usleep(1000), 0, SENTINEL);
  SYS("usleep.zero", usleep(0), 0, SENTINEL);
  SYS("sleep.zero", (long)sleep(0), 0, SENTINEL);
  PT("thrd_sleep.zero", thrd_sleep(&(struct timespec){0, 0}, NULL), 0);

  struct cancel_arg ca;
  memset(&ca, 0, sizeof ca);
  cancel_blocked("pthread_cancel.in_nanosleep", cancel_in_nanosleep, &ca, SYS_clock_nanosleep);
}

/* ---------------------------------------------------------------------------------------------- */

/* ---------------------------------------------------------------------------------------------- */
/* longjmp and siglongjmp (hooked: a jump out of a watched blocking call ends its wait) and dlclose
 * (hooked: the locks of an unloaded module are forgotten) */

static jmp_buf g_jb;
static sigjmp_buf g_sjb;

static void on_jump_signal(int sig) {
  (void)sig;
  siglongjmp(g_sjb, 7);
}

struct kicker_arg {
  pid_t tid;
  pthread_t target;
};

static void *kicker_main(void *p) {
  struct kicker_arg *k = p;
  wait_in_syscall(k->tid, SYS_read);
  pthread_kill(k->target, SIGUSR2);
  return NULL;
}

static void test_jmp_dl(void) {
  volatile int v;
  errno = SENTINEL;
  v = setjmp(g_jb);
  if (v == 0)
    longjmp(g_jb, 5);
  check("longjmp", num(v), errno, "", "5", SENTINEL, "");
  errno = SENTINEL;
  v = sigsetjmp(g_sjb, 1);
  if (v == 0)
    siglongjmp(g_sjb, 0); /* 0 becomes 1 */
  check("siglongjmp.zero", num(v), errno, "", "1", SENTINEL, "");

  /* Out of a read blocked on a pipe, from the handler of a signal that interrupted it. */
  int p[2];
  if (pipe(p) != 0)
    die("pipe");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_jump_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR2, &sa, NULL) != 0)
    die("sigaction");
  static struct kicker_arg k;
  k.tid = (pid_t)syscall(SYS_gettid);
  k.target = pthread_self();
  static volatile pthread_t kt; /* set between sigsetjmp and the jump: not in a register */
  errno = SENTINEL;
  v = sigsetjmp(g_sjb, 1);
  if (v == 0) {
    kt = spawn(kicker_main, &k);
    char c;
    errno = SENTINEL;
    (void)!read(p[0], &c, 1); /* blocks until the signal's handler jumps out */
    v = -1;
  }
  check("siglongjmp.out_of_read", num(v), errno, "", "7", SENTINEL, "");
  join(kt);
  signal(SIGUSR2, SIG_DFL);
  char c = 'x';
  (void)!write(p[1], &c, 1);
  RCALL(g, read(p[0], &c, 1));
  rep_sys("read.after_siglongjmp", g, 1, SENTINEL, "", "");
  close(p[0]);
  close(p[1]);

  void *h = dlopen("libm.so.6", RTLD_NOW);
  RCALL(g, h ? dlclose(h) : -2);
  rep_sys("dlclose", g, 0, ANY, "", "");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);

  /* dup2/dup3 targets and a never-open fd, well above anything the runtime or the tool opens */
  struct rlimit rl;
  long lim = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    lim = (long)rl.rlim_cur;
  if (lim > 1024)
    lim = 1024;
  if (lim < 256)
    die("RLIMIT_NOFILE too small (need 256)");
  g_fdbase = (int)(lim - 200);
  g_badfd = (int)(lim - 20);

  static const struct {
    const char *name;
    void (*fn)(void);
  } sections[] = {
      {"threads", test_threads},
      {"mutex", test_mutex},
      {"rwlock", test_rwlock},
      {"cond", test_cond},
      {"cancel", test_cancel},
      {"pipe_eventfd", test_pipe_eventfd},
      {"dup_fcntl_close", test_dup_fcntl_close},
      {"regular_file", test_regular_file},
      {"signals", test_signals},
      {"spawn", test_spawn},
      {"fork", test_fork},
      {"sem", test_sem},
      {"barrier", test_barrier},
      {"spin", test_spin},
      {"c11", test_c11},
      {"socket", test_socket},
      {"mux", test_mux},
      {"futex_sleep", test_futex_sleep},
      {"jmp_dl", test_jmp_dl},
  };
  const size_t nsections = sizeof sections / sizeof sections[0];
  if (argc > 1 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < nsections; i++)
      printf("%s\n", sections[i].name);
    return 0;
  }
  /* No argument: every section in order. Otherwise only the named ones (run.sh runs each section in
   * its own process, so that a hang or crash in one does not hide the results of the others). */
  for (int a = 1; a < argc; a++) {
    size_t i = 0;
    while (i < nsections && strcmp(argv[a], sections[i].name) != 0)
      i++;
    if (i == nsections) {
      fprintf(stderr, "fidelity: unknown section '%s' (try --list)\n", argv[a]);
      return 2;
    }
  }
  for (size_t i = 0; i < nsections; i++) {
    int wanted = argc == 1;
    for (int a = 1; a < argc; a++)
      wanted |= strcmp(argv[a], sections[i].name) == 0;
    if (wanted)
      sections[i].fn();
  }

  printf("done: checks=%d\n", g_checks);
  fflush(stdout);
  if (g_unexpected)
    fprintf(stderr, "fidelity: %d check(s) differ from the expected glibc result\n", g_unexpected);
  return 0;
}
