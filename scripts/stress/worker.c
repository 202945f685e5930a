/* The stress worker of scripts/stress.sh: one program, one scenario per run.
 *
 *   worker SCENARIO [ITERATIONS] [ARG]
 *
 * Every scenario is a correct program: run bare and under LD_PRELOAD=libthreadwatch.so it must print
 * the same stdout (deterministic: counts and verdicts, never timings), exit with the same status and
 * make no report. Measurements (RSS, times) go to stderr as `key=value` words, which stress.sh
 * collects but never compares. A scenario that cannot go on exits 3 with a line on stderr; a check
 * that fails prints `FAIL ...` on stdout (a difference) and goes on.
 *
 * Threads are ordered by observing them (/proc/self/task/TID/syscall), never by sleeping, so the
 * output does not depend on the machine's speed. Before it ends, every scenario joins its threads
 * and stays idle for LINGER_MS (stress.sh sets THREADWATCH_STALL below it): a wait state left
 * behind by the tool (a stale wait after cancellation or siglongjmp) then shows up as a false stall.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CHECK(expr)                                                                               \
  do {                                                                                            \
    if (!(expr)) {                                                                                \
      fprintf(stderr, "worker: %s:%d: check failed: %s (errno %d)\n", __FILE__, __LINE__, #expr, \
              errno);                                                                             \
      exit(3);                                                                                    \
    }                                                                                             \
  } while (0)
#define OK(call)                                                                                  \
  do {                                                                                            \
    int rc_ = (call);                                                                             \
    if (rc_ != 0) {                                                                               \
      fprintf(stderr, "worker: %s:%d: %s: %s\n", __FILE__, __LINE__, #call, strerror(rc_));      \
      exit(3);                                                                                    \
    }                                                                                             \
  } while (0)

static int failures;
#define EXPECT(cond, ...)                     \
  do {                                        \
    if (!(cond)) {                            \
      failures++;                             \
      printf("FAIL %s: ", __func__);          \
      printf(__VA_ARGS__);                    \
      printf("\n");                           \
    }                                         \
  } while (0)

/* --- helpers ------------------------------------------------------------------------------- */

static long status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  long v = -1;
  size_t k = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, k)) v = strtol(line + k, NULL, 10);
  if (f) fclose(f);
  return v;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) continue;
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* The system call thread TID is blocked in (-1 running, -2 gone). */
static long syscall_of(pid_t tid) {
  char path[64], buf[128];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -2;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -2;
  buf[n] = '\0';
  return buf[0] >= '0' && buf[0] <= '9' ? strtol(buf, NULL, 10) : -1;
}

/* Waits until thread TID sleeps in system call NR (it announced that it is about to make it). */
static void wait_in_syscall(pid_t tid, long nr) {
  for (long spins = 0;; spins++) {
    long cur = syscall_of(tid);
    if (cur == nr) return;
    CHECK(cur != -2);
    if (spins == 20000) fprintf(stderr, "worker: thread %d still not in syscall %ld\n", tid, nr);
    sleep_ms(1);
  }
}

/* Idle for LINGER_MS with every thread joined: a stale wait state left by the tool turns into a
 * stall report (stress.sh sets THREADWATCH_STALL below this). */
static void linger(void) {
  const char *v = getenv("STRESS_LINGER_MS");
  sleep_ms(v ? atol(v) : 1500);
}

static void print_mem(const char *scenario) {
  fprintf(stderr, "mem %s hwm_kb=%ld rss_kb=%ld\n", scenario, status_kb("VmHWM:"),
          status_kb("VmRSS:"));
}

/* --- noise: threads that keep every hook busy (locks, condvars, pipes, stacks, thread churn) ---- */

static atomic_int noise_stop;
static pthread_mutex_t noise_m1 = PTHREAD_MUTEX_INITIALIZER, noise_m2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t noise_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t atfork_m = PTHREAD_MUTEX_INITIALIZER; /* taken by noise, and by prepare */
static int noise_pipe[2];
static long noise_ticks;

static void *noise_child(void *arg) { return arg; }

static void *noise_main(void *arg) {
  long id = (long)arg;
  char c = 'n';
  while (!atomic_load(&noise_stop)) {
    pthread_mutex_lock(&noise_m1); /* always m1 then m2: a consistent order */
    pthread_mutex_lock(&noise_m2);
    noise_ticks++;
    pthread_cond_broadcast(&noise_cv);
    pthread_mutex_unlock(&noise_m2);
    pthread_mutex_unlock(&noise_m1);
    pthread_mutex_lock(&atfork_m);
    pthread_mutex_unlock(&atfork_m);
    if (id == 0) { /* pipe traffic through a watched fd */
      if (write(noise_pipe[1], &c, 1) == 1 && read(noise_pipe[0], &c, 1) != 1) exit(3);
    } else if (id == 1) { /* thread churn: stack captures at creation */
      pthread_t t;
      if (pthread_create(&t, NULL, noise_child, NULL) == 0) pthread_join(t, NULL);
    } else { /* a short timed condvar wait */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 200000;
      if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
      pthread_mutex_lock(&noise_m1);
      pthread_cond_timedwait(&noise_cv, &noise_m1, &ts);
      pthread_mutex_unlock(&noise_m1);
    }
  }
  return NULL;
}

static pthread_t noise_threads[3];
static void noise_start(void) {
  CHECK(pipe(noise_pipe) == 0);
  atomic_store(&noise_stop, 0);
  for (long i = 0; i < 3; i++) OK(pthread_create(&noise_threads[i], NULL, noise_main, (void *)i));
}
static void noise_end(void) {
  atomic_store(&noise_stop, 1);
  for (int i = 0; i < 3; i++) OK(pthread_join(noise_threads[i], NULL));
  close(noise_pipe[0]);
  close(noise_pipe[1]);
}

/* --- fork, atfork, _Fork, vfork ------------------------------------------------------------ */

static int atfork_pipe[2], fork_pipe[2];
static void prepare(void) { pthread_mutex_lock(&atfork_m); } /* waits for a noise thread (item 2) */
static void parent(void) { pthread_mutex_unlock(&atfork_m); }
static void child(void) { /* writes a pipe from the child handler, like libuv (item 1) */
  pthread_mutex_unlock(&atfork_m);
  char c = 'a';
  if (write(atfork_pipe[1], &c, 1) != 1) _exit(5);
}

/* A thread of a forked child. Its lock is never taken in the parent, so never held at fork time
 * (a lock another parent thread held then stays held forever in the child). */
static pthread_mutex_t child_m = PTHREAD_MUTEX_INITIALIZER;
static void *child_thread(void *arg) {
  pthread_mutex_lock(&child_m);
  pthread_mutex_unlock(&child_m);
  return arg;
}

static void scenario_fork(long n) {
  CHECK(pipe(atfork_pipe) == 0 && pipe(fork_pipe) == 0);
  OK(pthread_atfork(prepare, parent, child));
  noise_start();
  long ok = 0, fork_ok = 0, vfork_ok = 0;
  for (long i = 0; i < n; i++) {
    pid_t pid;
    int how = (int)(i % 3);
    if (how == 0) pid = fork();
    else if (how == 1) pid = _Fork(); /* no atfork handlers, no fork hook (glibc 2.34+) */
    else pid = vfork();
    CHECK(pid >= 0);
    if (pid == 0) {
      if (how == 2) _exit(7); /* vfork: nothing else is allowed */
      if (how == 1) { /* _Fork: async-signal-safe calls only (a watched write, then _exit) */
        char c = 'f';
        _exit(write(fork_pipe[1], &c, 1) == 1 ? 7 : 4);
      }
      pthread_t t; /* the child is single-threaded: threads, locks and exit must work */
      if (pthread_create(&t, NULL, child_thread, NULL) != 0 || pthread_join(t, NULL) != 0) _exit(4);
      if (i % 2) exit(7); /* atexit handlers and destructors (the tool's too) */
      _exit(7);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 7) ok++;
    else EXPECT(0, "child %ld (how %d) status 0x%x", i, how, st);
    if (how == 0) fork_ok++;
    if (how == 1) {
      char c;
      EXPECT(read(fork_pipe[0], &c, 1) == 1, "_Fork child %ld wrote nothing", i);
    }
    if (how == 2) vfork_ok++;
  }
  noise_end();
  /* One byte per fork() child (the atfork child handler ran there); none for _Fork and vfork. */
  long bytes = 0;
  char buf[256];
  fcntl(atfork_pipe[0], F_SETFL, O_NONBLOCK);
  for (ssize_t r; (r = read(atfork_pipe[0], buf, sizeof buf)) > 0;) bytes += r;
  EXPECT(bytes == fork_ok, "atfork child handler wrote %ld bytes for %ld forks", bytes, fork_ok);
  printf("fork iterations=%ld ok=%ld\n", n, ok);
  (void)vfork_ok;
}

/* daemon(): forks inside glibc, bypassing the fork hook, from a process with busy threads. The
 * daemonized process reports through a pipe; the scenario waits for it at most 20 s. */
static void scenario_daemon(long n) {
  long ok = 0;
  for (long i = 0; i < n; i++) {
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t helper = fork();
    CHECK(helper >= 0);
    if (helper == 0) {
      noise_start(); /* busy threads in the process that calls daemon() (item 3) */
      sleep_ms(1);
      if (daemon(1, 1) != 0) _exit(6);
      pid_t me = getpid(); /* first: the scenario can end this process if it hangs */
      if (write(p[1], &me, sizeof me) != sizeof me) _exit(6);
      /* The daemon: one thread; its exit runs the tool's exit path. */
      pthread_t t;
      if (pthread_create(&t, NULL, child_thread, NULL) == 0) pthread_join(t, NULL);
      char c = 'd';
      if (write(p[1], &c, 1) != 1) _exit(6);
      exit(0);
    }
    close(p[1]);
    int st = 0;
    CHECK(waitpid(helper, &st, 0) == helper);
    struct pollfd pfd = {p[0], POLLIN, 0};
    char c = 0;
    pid_t dpid = 0;
    bool got_pid = poll(&pfd, 1, 20000) == 1 && read(p[0], &dpid, sizeof dpid) == sizeof dpid;
    if (got_pid) fprintf(stderr, "daemon_pid=%d\n", (int)dpid); /* stress.sh ends it if all hangs */
    if (got_pid && poll(&pfd, 1, 20000) == 1 && read(p[0], &c, 1) == 1 && c == 'd') {
      ok++;
      close(p[0]);
      continue;
    }
    EXPECT(0, "daemon %ld did not finish within 20 s (helper status 0x%x)", i, st);
    if (dpid > 0) kill(dpid, SIGKILL); /* ours: the daemon this scenario started */
    close(p[0]);
    break; /* the next ones would hang the same way: one is enough */
  }
  printf("daemon iterations=%ld ok=%ld\n", n, ok);
}

/* --- exec and spawn ----------------------------------------------------------------------- */

static void scenario_exec(long n) {
  noise_start();
  long ok = 0;
  for (long i = 0; i < n; i++) {
    int st = -1;
    switch (i % 4) {
      case 0: {
        pid_t pid;
        char *argv[] = {"true", NULL};
        CHECK(posix_spawnp(&pid, "true", NULL, NULL, argv, environ) == 0);
        CHECK(waitpid(pid, &st, 0) == pid);
        break;
      }
      case 1: {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
          execlp("true", "true", (char *)NULL);
          _exit(127);
        }
        CHECK(waitpid(pid, &st, 0) == pid);
        break;
      }
      case 2: st = system("true"); break;
      case 3: {
        FILE *f = popen("echo x", "r");
        CHECK(f != NULL);
        char buf[8] = "";
        if (!fgets(buf, sizeof buf, f) || strcmp(buf, "x\n") != 0) EXPECT(0, "popen read '%s'", buf);
        st = pclose(f);
        break;
      }
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
    else EXPECT(0, "exec %ld (kind %ld) status 0x%x", i, i % 4, st);
  }
  noise_end();
  printf("exec iterations=%ld ok=%ld\n", n, ok);
}

/* --- signals during every blocking hook ----------------------------------------------------- */

enum call { C_MUTEX, C_RDLOCK, C_WRLOCK, C_COND, C_TIMEDCOND, C_JOIN, C_READ, C_WRITE, C_EFD_READ,
            C_COUNT };
static const char *const call_name[] = {"mutex_lock", "rwlock_rdlock", "rwlock_wrlock", "cond_wait",
                                        "cond_timedwait", "join", "read", "write", "eventfd_read"};
static const long call_sys[] = {SYS_futex, SYS_futex, SYS_futex, SYS_futex, SYS_futex,
                                SYS_futex, SYS_read,  SYS_write, SYS_read};

struct blocker {
  enum call call;
  int mode;                   /* 0: plain; 1: signal with handler; 2: cancel; 3: siglongjmp */
  pthread_mutex_t m;
  pthread_rwlock_t rw;
  pthread_cond_t cv;
  int ready_flag;             /* the condition of the condvar waits */
  int fds[2], efd;
  pthread_t joinee;
  atomic_int joinee_go;
  atomic_int tid;
  atomic_int done;            /* the blocked call returned */
  int result, err, eintr;
  atomic_int cleanup_ran;
  sigjmp_buf jb;
  atomic_int jumped;
  int linger;                 /* mode 3: stay out of watched calls for a while after the jump */
};

static __thread struct blocker *cur_blocker;
static int selfpipe[2];

static void on_signal(int sig) { /* a handler that writes a watched pipe (the self-pipe trick) */
  (void)sig;
  int saved = errno;
  char c = 's';
  if (write(selfpipe[1], &c, 1) != 1) _exit(9);
  errno = saved;
}

static void on_jump(int sig) {
  (void)sig;
  if (cur_blocker) siglongjmp(cur_blocker->jb, 1);
}

static void *joinee_main(void *arg) {
  struct blocker *b = arg;
  while (!atomic_load(&b->joinee_go)) sleep_ms(1);
  return NULL;
}

static void blocker_cleanup(void *arg) {
  struct blocker *b = arg;
  atomic_store(&b->cleanup_ran, 1);
  if (b->call == C_COND || b->call == C_TIMEDCOND) pthread_mutex_unlock(&b->m);
}

/* One blocking call of kind b->call, retried after EINTR; returns its result. */
static int block_once(struct blocker *b) {
  char c;
  eventfd_t v;
  switch (b->call) {
    case C_MUTEX: {
      int r = pthread_mutex_lock(&b->m);
      if (r == 0) pthread_mutex_unlock(&b->m);
      return r;
    }
    case C_RDLOCK:
    case C_WRLOCK: {
      int r = b->call == C_RDLOCK ? pthread_rwlock_rdlock(&b->rw) : pthread_rwlock_wrlock(&b->rw);
      if (r == 0) pthread_rwlock_unlock(&b->rw);
      return r;
    }
    case C_COND:
    case C_TIMEDCOND: {
      int r = 0;
      pthread_mutex_lock(&b->m);
      while (!b->ready_flag && r == 0) {
        if (b->call == C_COND) r = pthread_cond_wait(&b->cv, &b->m);
        else {
          struct timespec ts;
          clock_gettime(CLOCK_REALTIME, &ts);
          ts.tv_sec += 3600;
          r = pthread_cond_timedwait(&b->cv, &b->m, &ts);
        }
      }
      pthread_mutex_unlock(&b->m);
      return r;
    }
    case C_JOIN: return pthread_join(b->joinee, NULL);
    case C_READ:
      for (;;) {
        ssize_t r = read(b->fds[0], &c, 1);
        if (r == 1) return 0;
        if (r < 0 && errno == EINTR) { b->eintr++; continue; }
        return errno;
      }
    case C_WRITE: /* the pipe is full: the write waits for the reader */
      for (;;) {
        c = 'w';
        ssize_t r = write(b->fds[1], &c, 1);
        if (r == 1) return 0;
        if (r < 0 && errno == EINTR) { b->eintr++; continue; }
        return errno;
      }
    case C_EFD_READ:
      for (;;) {
        int r = eventfd_read(b->efd, &v);
        if (r == 0) return 0;
        if (errno == EINTR) { b->eintr++; continue; }
        return errno;
      }
    default: return -1;
  }
}

static void *blocker_main(void *arg) {
  struct blocker *b = arg;
  cur_blocker = b;
  stack_t ss = {0};
  if (b->mode == 1) { /* glibc's SIGSTKSZ here is 8 KiB: handlers doing I/O must fit (item 6) */
    ss.ss_size = 8192;
    ss.ss_sp = malloc(ss.ss_size);
    CHECK(ss.ss_sp && sigaltstack(&ss, NULL) == 0);
  }
  atomic_store(&b->tid, gettid_());
  if (b->mode == 3 && sigsetjmp(b->jb, 1) != 0) {
    /* Back from the signal handler: the blocked call was left. The last round stays out of any
     * watched call for a while first (a stale wait would now look like a stall), then blocks in
     * the same call once more, for real. */
    if (b->linger) linger();
    b->mode = 0;
    atomic_store(&b->jumped, 1);
  }
  if (b->mode == 2) {
    pthread_cleanup_push(blocker_cleanup, b);
    b->result = block_once(b);
    pthread_cleanup_pop(0);
  } else {
    b->result = block_once(b);
  }
  atomic_store(&b->done, 1);
  if (ss.ss_sp) {
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
    free(ss.ss_sp);
  }
  return NULL;
}

/* Makes the wait of `b` possible: the state that blocks it (a held lock, a full pipe, ...). */
static void block_setup(struct blocker *b) {
  OK(pthread_mutex_init(&b->m, NULL));
  OK(pthread_rwlock_init(&b->rw, NULL));
  OK(pthread_cond_init(&b->cv, NULL));
  CHECK(pipe(b->fds) == 0);
  CHECK((b->efd = eventfd(0, 0)) >= 0);
  switch (b->call) {
    case C_MUTEX: OK(pthread_mutex_lock(&b->m)); break;
    case C_RDLOCK: OK(pthread_rwlock_wrlock(&b->rw)); break;
    case C_WRLOCK: OK(pthread_rwlock_rdlock(&b->rw)); break;
    case C_JOIN: OK(pthread_create(&b->joinee, NULL, joinee_main, b)); break;
    case C_WRITE: { /* fill the pipe without blocking, then make it blocking again */
      char buf[4096];
      memset(buf, 'f', sizeof buf);
      fcntl(b->fds[1], F_SETFL, O_NONBLOCK);
      while (write(b->fds[1], buf, sizeof buf) > 0) continue;
      while (write(b->fds[1], buf, 1) > 0) continue;
      fcntl(b->fds[1], F_SETFL, 0);
      break;
    }
    default: break;
  }
}

/* Ends the wait of `b` the normal way. */
static void block_release(struct blocker *b) {
  char buf[65536];
  switch (b->call) {
    case C_MUTEX: OK(pthread_mutex_unlock(&b->m)); break;
    case C_RDLOCK:
    case C_WRLOCK: OK(pthread_rwlock_unlock(&b->rw)); break;
    case C_COND:
    case C_TIMEDCOND:
      OK(pthread_mutex_lock(&b->m));
      b->ready_flag = 1;
      OK(pthread_cond_signal(&b->cv));
      OK(pthread_mutex_unlock(&b->m));
      break;
    case C_JOIN: atomic_store(&b->joinee_go, 1); break;
    case C_READ: CHECK(write(b->fds[1], "r", 1) == 1); break;
    case C_WRITE: CHECK(read(b->fds[0], buf, sizeof buf) > 0); break;
    case C_EFD_READ: CHECK(eventfd_write(b->efd, 1) == 0); break;
    default: break;
  }
}

static void block_teardown(struct blocker *b) {
  if (b->call == C_JOIN && b->mode == 2) { /* the cancelled joiner left the joinee unjoined */
    atomic_store(&b->joinee_go, 1);
    OK(pthread_join(b->joinee, NULL));
  }
  pthread_cond_destroy(&b->cv);
  pthread_rwlock_destroy(&b->rw);
  pthread_mutex_destroy(&b->m);
  close(b->fds[0]);
  close(b->fds[1]);
  close(b->efd);
}

/* mode 1: a signal (handler on a small alternate stack, writing a watched pipe) while blocked.
 * mode 2: pthread_cancel while blocked. mode 3: siglongjmp out of the blocked call, then block again
 * and end normally. Returns the number of rounds that behaved. */
static long run_blocker(enum call call, int mode, long rounds, int sa_restart) {
  long ok = 0;
  for (long r = 0; r < rounds; r++) {
    struct blocker *b = calloc(1, sizeof(*b));
    CHECK(b != NULL);
    b->call = call;
    b->mode = mode;
    b->linger = mode == 3 && r == rounds - 1;
    block_setup(b);
    pthread_t t;
    OK(pthread_create(&t, NULL, blocker_main, b));
    while (atomic_load(&b->tid) == 0) sleep_ms(1);
    wait_in_syscall(atomic_load(&b->tid), call_sys[call]);
    if (mode == 1) {
      OK(pthread_kill(t, SIGUSR1));
      char c;
      CHECK(read(selfpipe[0], &c, 1) == 1); /* the handler ran */
      block_release(b);
      OK(pthread_join(t, NULL));
      int want_eintr = !sa_restart && (call == C_READ || call == C_WRITE || call == C_EFD_READ);
      if (b->result == 0 && b->eintr == want_eintr) ok++;
      else EXPECT(0, "%s signal round %ld: result %d, %d EINTR", call_name[call], r, b->result, b->eintr);
    } else if (mode == 2) {
      OK(pthread_cancel(t));
      void *ret = NULL;
      OK(pthread_join(t, &ret));
      if (ret == PTHREAD_CANCELED && atomic_load(&b->cleanup_ran)) ok++;
      else EXPECT(0, "%s cancel round %ld: ret %p cleanup %d", call_name[call], r, ret, b->cleanup_ran);
      if (call == C_MUTEX) OK(pthread_mutex_unlock(&b->m)); /* still ours */
      if (call == C_RDLOCK || call == C_WRLOCK) OK(pthread_rwlock_unlock(&b->rw));
    } else if (mode == 3) {
      OK(pthread_kill(t, SIGUSR2));
      while (!atomic_load(&b->jumped)) sleep_ms(1);
      wait_in_syscall(atomic_load(&b->tid), call_sys[call]); /* blocked again, for real */
      block_release(b);
      OK(pthread_join(t, NULL));
      if (b->result == 0) ok++;
      else EXPECT(0, "%s longjmp round %ld: result %d", call_name[call], r, b->result);
    }
    block_teardown(b);
    free(b);
  }
  return ok;
}

static void install(int sig, void (*fn)(int), int flags) {
  struct sigaction sa = {0};
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void scenario_signals(long rounds) {
  CHECK(pipe(selfpipe) == 0);
  for (int restart = 1; restart >= 0; restart--) {
    install(SIGUSR1, on_signal, (restart ? SA_RESTART : 0) | SA_ONSTACK);
    for (int c = 0; c < C_COUNT; c++) {
      long ok = run_blocker((enum call)c, 1, rounds, restart);
      printf("signals call=%s sa_restart=%d rounds=%ld ok=%ld\n", call_name[c], restart, rounds, ok);
    }
  }
  linger();
}

static void scenario_cancel(long rounds) {
  static const enum call points[] = {C_COND, C_TIMEDCOND, C_JOIN, C_READ, C_WRITE, C_EFD_READ};
  for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
    long ok = run_blocker(points[i], 2, rounds, 1);
    printf("cancel call=%s rounds=%ld ok=%ld\n", call_name[points[i]], rounds, ok);
  }
  linger();
}

static void scenario_longjmp(long rounds) {
  install(SIGUSR2, on_jump, 0);
  /* Not rwlocks nor condvars: leaving their waits with a jump leaves glibc's own state wrong. A
   * mutex wait only leaves the lock word marked contended (an extra wake-up later). */
  static const enum call points[] = {C_READ, C_WRITE, C_EFD_READ, C_MUTEX};
  for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
    long ok = run_blocker(points[i], 3, rounds, 1);
    printf("longjmp call=%s rounds=%ld ok=%ld\n", call_name[points[i]], rounds, ok);
  }
  linger();
}

/* --- dlopen / dlclose ----------------------------------------------------------------------- */

/* ARG: the path of the reload library (stress.sh builds it from lib_reload.c). Odd loads take its
 * two static mutexes A then B, even loads B then A: each load has new locks (no cycle). */
static void scenario_dlopen(long n, const char *lib) {
  CHECK(lib != NULL);
  long ok = 0;
  noise_start();
  for (long i = 0; i < n; i++) {
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      fprintf(stderr, "worker: dlopen: %s\n", dlerror());
      exit(3);
    }
    void (*fn)(void);
    *(void **)&fn = dlsym(h, i % 2 ? "lock_ab" : "lock_ba");
    int (*count)(void);
    *(void **)&count = dlsym(h, "count");
    CHECK(fn && count);
    fn();
    fn();
    if (count() == 2) ok++;
    CHECK(dlclose(h) == 0);
  }
  noise_end();
  printf("dlopen iterations=%ld ok=%ld\n", n, ok);
  linger();
}

/* --- thread churn, many live threads, deep held-lock stacks -------------------------------- */

static pthread_mutex_t churn_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t churn_cv = PTHREAD_COND_INITIALIZER;
static int churn_pipe[2];
static atomic_long churn_sum;

static void *churn_thread(void *arg) {
  long i = (long)arg;
  pthread_mutex_t *m = malloc(sizeof(*m)); /* a new lock-order pair every time (item 15) */
  pthread_mutex_init(m, NULL);
  pthread_mutex_lock(&churn_a);
  pthread_mutex_lock(m);
  atomic_fetch_add(&churn_sum, i);
  pthread_mutex_unlock(m);
  pthread_mutex_unlock(&churn_a);
  if (i % 2) pthread_mutex_destroy(m); /* and one never destroyed (std::mutex) */
  free(m);
  char c;
  if (read(churn_pipe[0], &c, 1) != 1) exit(3); /* a watched wait (item 16) */
  pthread_cond_signal(&churn_cv);
  return NULL;
}

static void scenario_churn(long n) {
  CHECK(pipe(churn_pipe) == 0);
  double t0 = now_s();
  long hwm_mid = 0;
  for (long done = 0; done < n; done += 50) {
    pthread_t t[50];
    char bytes[50];
    memset(bytes, 'c', sizeof bytes);
    CHECK(write(churn_pipe[1], bytes, sizeof bytes) == sizeof bytes);
    for (long i = 0; i < 50; i++) OK(pthread_create(&t[i], NULL, churn_thread, (void *)(done + i)));
    for (long i = 0; i < 50; i++) OK(pthread_join(t[i], NULL));
    if (done + 50 == n / 2) hwm_mid = status_kb("VmRSS:");
  }
  long expect = n * (n - 1) / 2;
  EXPECT(atomic_load(&churn_sum) == expect, "sum %ld, expected %ld", atomic_load(&churn_sum), expect);
  printf("churn threads=%ld ok=%d\n", n, atomic_load(&churn_sum) == expect);
  fprintf(stderr, "time churn s=%.3f\n", now_s() - t0);
  fprintf(stderr, "mem churn rss_half_kb=%ld rss_end_kb=%ld\n", hwm_mid, status_kb("VmRSS:"));
  print_mem("churn");
  linger();
}

static pthread_mutex_t live_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cv = PTHREAD_COND_INITIALIZER, live_count_cv = PTHREAD_COND_INITIALIZER;
static long live_waiting, live_go;

static void *live_thread(void *arg) {
  pthread_mutex_lock(&live_m);
  live_waiting++;
  pthread_cond_signal(&live_count_cv); /* main counts them */
  while (!live_go) pthread_cond_wait(&live_cv, &live_m);
  pthread_mutex_unlock(&live_m);
  return arg;
}

static void scenario_live(long n) {
  pthread_attr_t a;
  OK(pthread_attr_init(&a));
  OK(pthread_attr_setstacksize(&a, 64 * 1024));
  pthread_t *t = calloc(n, sizeof(*t));
  long rss0 = status_kb("VmRSS:");
  double t0 = now_s();
  for (long i = 0; i < n; i++) OK(pthread_create(&t[i], &a, live_thread, NULL));
  pthread_mutex_lock(&live_m);
  while (live_waiting < n) pthread_cond_wait(&live_count_cv, &live_m);
  pthread_mutex_unlock(&live_m);
  double t1 = now_s();
  long rss1 = status_kb("VmRSS:");
  pthread_mutex_lock(&live_m);
  live_go = 1;
  pthread_cond_broadcast(&live_cv);
  pthread_mutex_unlock(&live_m);
  for (long i = 0; i < n; i++) OK(pthread_join(t[i], NULL));
  printf("live threads=%ld ok=1\n", n);
  fprintf(stderr, "time live start_s=%.3f herd_s=%.3f\n", t1 - t0, now_s() - t1);
  fprintf(stderr, "mem live per_thread_kb=%.1f\n", (double)(rss1 - rss0) / n);
  print_mem("live");
  free(t);
}

static void scenario_deep(long n) {
  pthread_mutex_t *m = calloc(n, sizeof(*m));
  for (long i = 0; i < n; i++) OK(pthread_mutex_init(&m[i], NULL));
  double t0 = now_s();
  for (int round = 0; round < 3; round++) {
    for (long i = 0; i < n; i++) OK(pthread_mutex_lock(&m[i]));
    for (long i = 0; i < n; i++) OK(pthread_mutex_unlock(&m[round == 2 ? i : n - 1 - i]));
  }
  fprintf(stderr, "time deep s=%.3f\n", now_s() - t0);
  print_mem("deep");
  for (long i = 0; i < n; i++) OK(pthread_mutex_destroy(&m[i]));
  free(m);
  printf("deep locks=%ld rounds=3 ok=1\n", n);
}

/* --- the soak: mixed work for a given time ------------------------------------------------- */

#define SOAK_LOCKS 64
static pthread_mutex_t soak_locks[SOAK_LOCKS];
static atomic_int soak_stop;
static atomic_long soak_ops[8];
static const char *soak_lib;

struct queue { /* a bounded producer/consumer queue */
  pthread_mutex_t m;
  pthread_cond_t not_empty, not_full;
  long items[16];
  int head, n;
};
static struct queue soak_q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                              PTHREAD_COND_INITIALIZER, {0}, 0, 0};
static atomic_long produced_sum, consumed_sum;

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void *soak_short(void *arg) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; /* a lock on the thread's own stack */
  pthread_mutex_lock(&soak_locks[0]);
  pthread_mutex_lock(&m);
  pthread_mutex_unlock(&m);
  pthread_mutex_unlock(&soak_locks[0]);
  return arg;
}

static void *soak_worker(void *arg) {
  long id = (long)arg;
  uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1);
  int pp[2];
  CHECK(pipe(pp) == 0);
  while (!atomic_load(&soak_stop)) {
    switch (rnd(&s) % 6) {
      case 0: { /* nested locks, always in index order */
        int a = (int)(rnd(&s) % SOAK_LOCKS), b = (int)(rnd(&s) % SOAK_LOCKS);
        if (a > b) { int x = a; a = b; b = x; }
        pthread_mutex_lock(&soak_locks[a]);
        if (b != a) pthread_mutex_lock(&soak_locks[b]);
        if (b != a) pthread_mutex_unlock(&soak_locks[b]);
        pthread_mutex_unlock(&soak_locks[a]);
        break;
      }
      case 1: { /* produce */
        long v = (long)(rnd(&s) % 1000);
        pthread_mutex_lock(&soak_q.m);
        struct timespec ts; /* every thread may be a producer at once: wait a little only */
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        while (soak_q.n == 16 && pthread_cond_timedwait(&soak_q.not_full, &soak_q.m, &ts) == 0)
          continue;
        if (soak_q.n < 16) {
          soak_q.items[(soak_q.head + soak_q.n++) % 16] = v;
          atomic_fetch_add(&produced_sum, v);
          pthread_cond_signal(&soak_q.not_empty);
        }
        pthread_mutex_unlock(&soak_q.m);
        break;
      }
      case 2: { /* consume (timed: the producers are random too) */
        pthread_mutex_lock(&soak_q.m);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        while (soak_q.n == 0 && pthread_cond_timedwait(&soak_q.not_empty, &soak_q.m, &ts) == 0)
          continue;
        if (soak_q.n > 0) {
          atomic_fetch_add(&consumed_sum, soak_q.items[soak_q.head]);
          soak_q.head = (soak_q.head + 1) % 16;
          soak_q.n--;
          pthread_cond_signal(&soak_q.not_full);
        }
        pthread_mutex_unlock(&soak_q.m);
        break;
      }
      case 3: { /* write one byte, read one byte (item 11) */
        char c = 'p';
        if (write(pp[1], &c, 1) != 1 || read(pp[0], &c, 1) != 1) exit(3);
        break;
      }
      case 4: { /* a short thread with a lock of its own */
        pthread_t t;
        if (pthread_create(&t, NULL, soak_short, NULL) == 0) pthread_join(t, NULL);
        break;
      }
      case 5: /* nothing watched: compute */
        for (volatile int i = 0; i < 10000; i++) continue;
        break;
    }
    atomic_fetch_add(&soak_ops[id % 8], 1);
  }
  close(pp[0]);
  close(pp[1]);
  return NULL;
}

static void scenario_soak(long seconds, const char *lib) {
  soak_lib = lib;
  for (int i = 0; i < SOAK_LOCKS; i++) OK(pthread_mutex_init(&soak_locks[i], NULL));
  pthread_t t[6];
  for (long i = 0; i < 6; i++) OK(pthread_create(&t[i], NULL, soak_worker, (void *)i));
  double t0 = now_s(), next_fork = t0 + 1, next_dl = t0 + 0.5;
  long forks = 0, loads = 0;
  while (now_s() - t0 < seconds) {
    sleep_ms(50);
    if (now_s() >= next_fork) { /* a fork now and then, the child exits through exit() */
      pid_t pid = fork();
      CHECK(pid >= 0);
      if (pid == 0) exit(0);
      int st;
      CHECK(waitpid(pid, &st, 0) == pid);
      EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "soak fork child status 0x%x", st);
      forks++;
      next_fork += 2;
    }
    if (lib && now_s() >= next_dl) { /* load, lock in alternating orders, unload */
      void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
      CHECK(h != NULL);
      void (*fn)(void);
      *(void **)&fn = dlsym(h, loads % 2 ? "lock_ab" : "lock_ba");
      CHECK(fn);
      fn();
      CHECK(dlclose(h) == 0);
      loads++;
      next_dl += 1;
    }
  }
  atomic_store(&soak_stop, 1);
  pthread_mutex_lock(&soak_q.m);
  pthread_cond_broadcast(&soak_q.not_full);
  pthread_mutex_unlock(&soak_q.m);
  for (int i = 0; i < 6; i++) OK(pthread_join(t[i], NULL));
  long left = 0;
  for (int i = 0; i < soak_q.n; i++) left += soak_q.items[(soak_q.head + i) % 16];
  EXPECT(atomic_load(&produced_sum) == atomic_load(&consumed_sum) + left, "queue sums differ");
  long ops = 0;
  for (int i = 0; i < 8; i++) ops += atomic_load(&soak_ops[i]);
  printf("soak ok=%d\n", failures == 0);
  fprintf(stderr, "soak ops=%ld forks=%ld loads=%ld\n", ops, forks, loads);
  print_mem("soak");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: worker fork|daemon|exec|signals|cancel|longjmp|dlopen|churn|live|deep|"
                    "soak [N] [ARG]\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *s = argv[1];
  long n = argc > 2 ? atol(argv[2]) : 0;
  const char *arg = argc > 3 ? argv[3] : NULL;
  if (!strcmp(s, "fork")) scenario_fork(n ? n : 300);
  else if (!strcmp(s, "daemon")) scenario_daemon(n ? n : 20);
  else if (!strcmp(s, "exec")) scenario_exec(n ? n : 100);
  else if (!strcmp(s, "signals")) scenario_signals(n ? n : 10);
  else if (!strcmp(s, "cancel")) scenario_cancel(n ? n : 20);
  else if (!strcmp(s, "longjmp")) scenario_longjmp(n ? n : 20);
  else if (!strcmp(s, "dlopen")) scenario_dlopen(n ? n : 100, arg);
  else if (!strcmp(s, "churn")) scenario_churn(n ? n : 20000);
  else if (!strcmp(s, "live")) scenario_live(n ? n : 2000);
  else if (!strcmp(s, "deep")) scenario_deep(n ? n : 5000);
  else if (!strcmp(s, "soak")) scenario_soak(n ? n : 30, arg);
  else {
    fprintf(stderr, "worker: no scenario %s\n", s);
    return 2;
  }
  fflush(stdout);
  return failures ? 1 : 0;
}
