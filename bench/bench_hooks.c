/* Micro-benchmarks of the calls libthreadwatch hooks, run bare and under LD_PRELOAD by
 * scripts/bench.sh.
 *
 * Usage: bench_hooks [--quick] [-i ITERATIONS] NAME...   (NAME may be "all"; "list" prints the
 * names)
 *
 * For each NAME it prints one line, "NAME NS_PER_OP MAXRSS_KB": the time measured on
 * CLOCK_MONOTONIC divided by the iteration count, and the process's peak resident set (getrusage)
 * after the run (each benchmark runs in a process of its own under scripts/bench.sh, so it is that
 * benchmark's). What one "op" is depends on the benchmark (see the table below).
 * Each benchmark first runs a warm-up of 1/20 of its iterations, so one-time work of the tool
 * (first sighting of a lock-order edge, stack capture, registry insertion) is not part of the
 * figure: it measures the steady-state cost that STYLE.md item 4 asks the hot path to keep.
 * buckets1m warms up over one whole pass of its million mutexes (every edge seen once), and
 * buckets1m_first has no warm-up: it measures exactly that first sighting, once per edge.
 * NAME_mt runs NAME while a second, idle thread exists (see the comment at idle_thread).
 *
 * Default iteration counts make each benchmark take roughly 0.3-1 s without the preload on a 2-core
 * machine. --quick (or the environment variable BENCH_QUICK=1) divides them by 50 for CI smoke
 * tests. Nothing here is a pass/fail condition: the exit status is non-zero only when a call the
 * benchmark relies on fails.
 *
 * It is deliberately not linked to threadwatch: the library is injected with LD_PRELOAD.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <semaphore.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void fail(const char *what, int err) {
  fprintf(stderr, "bench_hooks: %s: %s\n", what, strerror(err));
  exit(1);
}

#define CHECK0(call)                      \
  do {                                    \
    int rc_ = (call);                     \
    if (rc_ != 0)                         \
      fail(#call, rc_ > 0 ? rc_ : errno); \
  } while (0)

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* ---------------------------------------------------------------------------------------------- */

/* lock: one uncontended pthread_mutex_lock + pthread_mutex_unlock. */
static void run_lock(long n) {
  static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
  }
}

/* nested4: lock four mutexes in a fixed order, unlock them in reverse. */
static void run_nested4(long n) {
  static pthread_mutex_t m[4] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                 PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&m[0]);
    pthread_mutex_lock(&m[1]);
    pthread_mutex_lock(&m[2]);
    pthread_mutex_lock(&m[3]);
    pthread_mutex_unlock(&m[3]);
    pthread_mutex_unlock(&m[2]);
    pthread_mutex_unlock(&m[1]);
    pthread_mutex_unlock(&m[0]);
  }
}

/* create_join: pthread_create of a thread that returns at once, then pthread_join. */
static void *empty_thread(void *arg) {
  return arg;
}

static void run_create_join(long n) {
  for (long i = 0; i < n; i++) {
    pthread_t t;
    CHECK0(pthread_create(&t, NULL, empty_thread, NULL));
    CHECK0(pthread_join(t, NULL));
  }
}

/* pipe_pingpong: one byte there and back over two pipes; one op is a round trip. */
struct pp {
  int a[2], b[2];
  long n;
};

static void *pipe_partner(void *arg) {
  struct pp *p = arg;
  char c;
  for (long i = 0; i < p->n; i++) {
    if (read(p->a[0], &c, 1) != 1)
      fail("read (partner)", errno);
    if (write(p->b[1], &c, 1) != 1)
      fail("write (partner)", errno);
  }
  return NULL;
}

static void run_pipe_pingpong(long n) {
  struct pp p = {.n = n};
  CHECK0(pipe(p.a));
  CHECK0(pipe(p.b));
  pthread_t t;
  CHECK0(pthread_create(&t, NULL, pipe_partner, &p));
  char c = 'x';
  for (long i = 0; i < n; i++) {
    if (write(p.a[1], &c, 1) != 1)
      fail("write", errno);
    if (read(p.b[0], &c, 1) != 1)
      fail("read", errno);
  }
  CHECK0(pthread_join(t, NULL));
  close(p.a[0]);
  close(p.a[1]);
  close(p.b[0]);
  close(p.b[1]);
}

/* eventfd_pingpong: like pipe_pingpong with two blocking eventfds and eventfd_read/eventfd_write.
 */
struct ep {
  int to_partner, to_main;
  long n;
};

static void *eventfd_partner(void *arg) {
  struct ep *p = arg;
  eventfd_t v;
  for (long i = 0; i < p->n; i++) {
    if (eventfd_read(p->to_partner, &v) != 0)
      fail("eventfd_read (partner)", errno);
    if (eventfd_write(p->to_main, 1) != 0)
      fail("eventfd_write (partner)", errno);
  }
  return NULL;
}

static void run_eventfd_pingpong(long n) {
  struct ep p = {.n = n};
  p.to_partner = eventfd(0, EFD_CLOEXEC);
  p.to_main = eventfd(0, EFD_CLOEXEC);
  if (p.to_partner < 0 || p.to_main < 0)
    fail("eventfd", errno);
  pthread_t t;
  CHECK0(pthread_create(&t, NULL, eventfd_partner, &p));
  eventfd_t v;
  for (long i = 0; i < n; i++) {
    if (eventfd_write(p.to_partner, 1) != 0)
      fail("eventfd_write", errno);
    if (eventfd_read(p.to_main, &v) != 0)
      fail("eventfd_read", errno);
  }
  CHECK0(pthread_join(t, NULL));
  close(p.to_partner);
  close(p.to_main);
}

/* condvar_pingpong: two threads take turns through one mutex and two condvars with a predicate;
 * one op is a round trip (main -> partner -> main). */
struct cp {
  pthread_mutex_t m;
  pthread_cond_t to_partner, to_main;
  int turn; /* 0: main's turn, 1: partner's turn */
  int stop;
};

static void *cond_partner(void *arg) {
  struct cp *p = arg;
  pthread_mutex_lock(&p->m);
  for (;;) {
    while (p->turn != 1)
      pthread_cond_wait(&p->to_partner, &p->m);
    if (p->stop)
      break;
    p->turn = 0;
    pthread_cond_signal(&p->to_main);
  }
  pthread_mutex_unlock(&p->m);
  return NULL;
}

static void run_condvar_pingpong(long n) {
  struct cp p = {.turn = 0};
  CHECK0(pthread_mutex_init(&p.m, NULL));
  CHECK0(pthread_cond_init(&p.to_partner, NULL));
  CHECK0(pthread_cond_init(&p.to_main, NULL));
  pthread_t t;
  CHECK0(pthread_create(&t, NULL, cond_partner, &p));
  pthread_mutex_lock(&p.m);
  for (long i = 0; i < n; i++) {
    p.turn = 1;
    pthread_cond_signal(&p.to_partner);
    while (p.turn != 0)
      pthread_cond_wait(&p.to_main, &p.m);
  }
  p.stop = 1;
  p.turn = 1;
  pthread_cond_signal(&p.to_partner);
  pthread_mutex_unlock(&p.m);
  CHECK0(pthread_join(t, NULL));
  pthread_cond_destroy(&p.to_partner);
  pthread_cond_destroy(&p.to_main);
  pthread_mutex_destroy(&p.m);
}

/* lock_contended: main and a partner thread, each on its own CPU, both lock one mutex, do a little
 * work under it (64 increments of a volatile counter) and a little outside it, as fast as they
 * can; one op is main's lock+unlock (the partner stops when main is done). Many acquisitions find
 * the mutex held: the contended slow path, futex waits and wakes. */
struct lc {
  pthread_mutex_t m;
  volatile long counter;
  volatile int stop;
};

static void lc_work(volatile long *c) {
  for (int k = 0; k < 64; k++) (*c)++;
}

/* Pins the calling thread to CPU `cpu` when the machine has more than one (the two threads of a
 * contended benchmark on two CPUs: contention that does not depend on how the scheduler happens to
 * share one CPU between them); returns the old mask in *old when old is not NULL. */
static void pin_to(int cpu, cpu_set_t *old) {
  if (old) CHECK0(pthread_getaffinity_np(pthread_self(), sizeof(*old), old));
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set); /* best effort (a cpuset may say no) */
}

static void *lock_partner(void *arg) {
  struct lc *p = arg;
  pin_to(1, NULL);
  volatile long outside = 0;
  while (!p->stop) {
    pthread_mutex_lock(&p->m);
    lc_work(&p->counter);
    pthread_mutex_unlock(&p->m);
    lc_work(&outside);
  }
  return NULL;
}

static void run_lock_contended(long n) {
  struct lc p = {.counter = 0};
  CHECK0(pthread_mutex_init(&p.m, NULL));
  pthread_t t;
  cpu_set_t old;
  pin_to(0, &old);
  CHECK0(pthread_create(&t, NULL, lock_partner, &p));
  volatile long outside = 0;
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&p.m);
    lc_work(&p.counter);
    pthread_mutex_unlock(&p.m);
    lc_work(&outside);
  }
  p.stop = 1;
  CHECK0(pthread_join(t, NULL));
  pthread_setaffinity_np(pthread_self(), sizeof(old), &old);
  pthread_mutex_destroy(&p.m);
}

/* file_rw: write 64 bytes to a regular file in /tmp, lseek back, read them; one op is a write+read
 * pair (plus the two lseeks that keep the file at 64 bytes). Measures the hooks' cost for an fd
 * that is neither a pipe nor an eventfd. */
static int g_file_fd = -1;

static void run_file_rw(long n) {
  if (g_file_fd < 0) {
    char path[] = "/tmp/threadwatch-bench-XXXXXX";
    g_file_fd = mkstemp(path);
    if (g_file_fd < 0)
      fail("mkstemp", errno);
    unlink(path);
  }
  char out[64], in[64];
  memset(out, 'w', sizeof out);
  for (long i = 0; i < n; i++) {
    if (lseek(g_file_fd, 0, SEEK_SET) != 0)
      fail("lseek", errno);
    if (write(g_file_fd, out, sizeof out) != (ssize_t)sizeof out)
      fail("write", errno);
    if (lseek(g_file_fd, 0, SEEK_SET) != 0)
      fail("lseek", errno);
    if (read(g_file_fd, in, sizeof in) != (ssize_t)sizeof in)
      fail("read", errno);
  }
}

/* One million mutexes, each taken under one of 64 bucket locks (the lock-order stress case: every
 * (bucket, mutex) edge is distinct; n iterations walk the million n / 1e6 times). */
#define BUCKET_LOCKS 64
#define BUCKETED_MUTEXES 1000000
static pthread_mutex_t g_buckets[BUCKET_LOCKS];
static pthread_mutex_t *g_bucketed;

static void run_buckets1m(long n) {
  if (!g_bucketed) {
    g_bucketed = malloc(sizeof(*g_bucketed) * BUCKETED_MUTEXES);
    if (!g_bucketed) fail("malloc", ENOMEM);
    for (int i = 0; i < BUCKET_LOCKS; i++) pthread_mutex_init(&g_buckets[i], NULL);
    for (long i = 0; i < BUCKETED_MUTEXES; i++) pthread_mutex_init(&g_bucketed[i], NULL);
  }
  for (long i = 0; i < n; i++) {
    pthread_mutex_t *b = &g_buckets[i % BUCKET_LOCKS], *m = &g_bucketed[i % BUCKETED_MUTEXES];
    pthread_mutex_lock(b);
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
    pthread_mutex_unlock(b);
  }
}

/* buckets1m_first: the same shape over a million fresh mutexes, each locked once: every
 * acquisition is the first sighting of its edge (what the tool pays once per edge). No warm-up. */
static pthread_mutex_t *g_fresh;

static void run_buckets1m_first(long n) {
  if (!g_fresh) {
    g_fresh = malloc(sizeof(*g_fresh) * BUCKETED_MUTEXES);
    if (!g_fresh) fail("malloc", ENOMEM);
    for (int i = 0; i < BUCKET_LOCKS; i++) pthread_mutex_init(&g_buckets[i], NULL);
    for (long i = 0; i < BUCKETED_MUTEXES; i++) pthread_mutex_init(&g_fresh[i], NULL);
  }
  if (n > BUCKETED_MUTEXES) n = BUCKETED_MUTEXES;
  for (long i = 0; i < n; i++) {
    pthread_mutex_t *b = &g_buckets[i % BUCKET_LOCKS], *m = &g_fresh[i];
    pthread_mutex_lock(b);
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
    pthread_mutex_unlock(b);
  }
}


/* ---------------------------------------------------------------------------------------------- */

/* Herds: N threads (64 KiB stacks) each block once, in a condvar wait or a pipe read, and are all
 * released at once; one op is one whole herd (create N, all blocked, release, join N). They show
 * what each thread's first blocking call costs (time and memory per live thread). */
#define HERD_STACK (64 * 1024)

struct herd {
  pthread_mutex_t m;
  pthread_cond_t cv, all_in;
  int waiting, go, n;
  int pfd[2];
  _Atomic int entered;
};

static void *cond_herd_thread(void *arg) {
  struct herd *h = arg;
  pthread_mutex_lock(&h->m);
  if (++h->waiting == h->n) pthread_cond_signal(&h->all_in);
  while (!h->go) pthread_cond_wait(&h->cv, &h->m);
  pthread_mutex_unlock(&h->m);
  return NULL;
}

static void *pipe_herd_thread(void *arg) {
  struct herd *h = arg;
  char c;
  h->entered++;
  if (read(h->pfd[0], &c, 1) != 1) fail("read (herd)", errno);
  return NULL;
}

static void run_herd(long n, int threads, int pipe_mode) {
  pthread_t *t = malloc(sizeof(*t) * (size_t)threads);
  if (!t) fail("malloc", ENOMEM);
  pthread_attr_t a;
  CHECK0(pthread_attr_init(&a));
  CHECK0(pthread_attr_setstacksize(&a, HERD_STACK));
  char *bytes = calloc((size_t)threads, 1);
  if (!bytes) fail("calloc", ENOMEM);
  for (long i = 0; i < n; i++) {
    struct herd h = {.n = threads};
    CHECK0(pthread_mutex_init(&h.m, NULL));
    CHECK0(pthread_cond_init(&h.cv, NULL));
    CHECK0(pthread_cond_init(&h.all_in, NULL));
    if (pipe_mode) CHECK0(pipe(h.pfd));
    for (int k = 0; k < threads; k++)
      CHECK0(pthread_create(&t[k], &a, pipe_mode ? pipe_herd_thread : cond_herd_thread, &h));
    if (pipe_mode) {
      while (h.entered < threads) sched_yield();
      if (write(h.pfd[1], bytes, (size_t)threads) != threads) fail("write (herd)", errno);
    } else {
      pthread_mutex_lock(&h.m);
      while (h.waiting < threads) pthread_cond_wait(&h.all_in, &h.m);
      h.go = 1; /* every thread is in its wait: they released the mutex there */
      pthread_cond_broadcast(&h.cv);
      pthread_mutex_unlock(&h.m);
    }
    for (int k = 0; k < threads; k++) CHECK0(pthread_join(t[k], NULL));
    if (pipe_mode) {
      close(h.pfd[0]);
      close(h.pfd[1]);
    }
    pthread_cond_destroy(&h.cv);
    pthread_cond_destroy(&h.all_in);
    pthread_mutex_destroy(&h.m);
  }
  pthread_attr_destroy(&a);
  free(bytes);
  free(t);
}

static void run_cond_herd1k(long n) { run_herd(n, 1000, 0); }
static void run_cond_herd10k(long n) { run_herd(n, 10000, 0); }
static void run_pipe_herd1k(long n) { run_herd(n, 1000, 1); }
static void run_pipe_herd10k(long n) { run_herd(n, 10000, 1); }

/* held1k: one thread takes 1,000 mutexes in a fixed order, holding them all, then releases them
 * in reverse; one op is one round (1,000 locks and 1,000 unlocks). After the warm-up every
 * lock-order edge is known. held1k_first: each round re-initialises the mutexes first, so every
 * acquisition is the first sighting of its edges (no warm-up). */
#define HELD 1000
static pthread_mutex_t g_held[HELD];

static void held_round(void) {
  for (int i = 0; i < HELD; i++) pthread_mutex_lock(&g_held[i]);
  for (int i = HELD; i-- > 0;) pthread_mutex_unlock(&g_held[i]);
}

static void run_held1k(long n) {
  static int inited;
  if (!inited++)
    for (int i = 0; i < HELD; i++) pthread_mutex_init(&g_held[i], NULL);
  for (long i = 0; i < n; i++) held_round();
}

static void run_held1k_first(long n) {
  for (long i = 0; i < n; i++) {
    for (int k = 0; k < HELD; k++) pthread_mutex_init(&g_held[k], NULL);
    held_round();
  }
}

/* ---------------------------------------------------------------------------------------------- */

/* The *_mt variants run the same loop while a second, idle thread exists. glibc locks a mutex
 * without a locked instruction while a process has one thread; threadwatch keeps a single-threaded
 * program single-threaded, but the programs it is for have threads: these show that case. */
static pthread_mutex_t g_idle_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_idle_cv = PTHREAD_COND_INITIALIZER;
static int g_idle_stop;

static void *idle_thread(void *arg) {
  pthread_mutex_lock(&g_idle_mu);
  while (!g_idle_stop) pthread_cond_wait(&g_idle_cv, &g_idle_mu);
  pthread_mutex_unlock(&g_idle_mu);
  return arg;
}

/* sem_pingpong: two semaphores, each posted by one thread and waited on by the other; one op is a
 * round trip (two posts, two waits, each wait blocking as the other side posts). */
struct sp {
  sem_t to_partner, to_main;
  long n;
};

static void *sem_partner(void *arg) {
  struct sp *p = arg;
  for (long i = 0; i < p->n; i++) {
    if (sem_wait(&p->to_partner) != 0)
      fail("sem_wait (partner)", errno);
    if (sem_post(&p->to_main) != 0)
      fail("sem_post (partner)", errno);
  }
  return NULL;
}

static void run_sem_pingpong(long n) {
  struct sp p = {.n = n};
  CHECK0(sem_init(&p.to_partner, 0, 0));
  CHECK0(sem_init(&p.to_main, 0, 0));
  pthread_t t;
  CHECK0(pthread_create(&t, NULL, sem_partner, &p));
  for (long i = 0; i < n; i++) {
    if (sem_post(&p.to_partner) != 0)
      fail("sem_post", errno);
    if (sem_wait(&p.to_main) != 0)
      fail("sem_wait", errno);
  }
  CHECK0(pthread_join(t, NULL));
  CHECK0(sem_destroy(&p.to_partner));
  CHECK0(sem_destroy(&p.to_main));
}

/* spin_lock: an uncontended pthread_spin_lock + pthread_spin_unlock pair; one op is the pair. */
static void run_spin_lock(long n) {
  static pthread_spinlock_t s;
  static int ready;
  if (!ready) {
    CHECK0(pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE));
    ready = 1;
  }
  for (long i = 0; i < n; i++) {
    pthread_spin_lock(&s);
    pthread_spin_unlock(&s);
  }
}

/* socketpair_pingpong: one byte there and back over a socketpair with send and recv; one op is a
 * round trip. */
static void *socketpair_partner(void *arg) {
  struct pp *p = arg;
  char c;
  for (long i = 0; i < p->n; i++) {
    if (recv(p->a[1], &c, 1, 0) != 1)
      fail("recv (partner)", errno);
    if (send(p->a[1], &c, 1, 0) != 1)
      fail("send (partner)", errno);
  }
  return NULL;
}

static void run_socketpair_pingpong(long n) {
  struct pp p = {.n = n};
  CHECK0(socketpair(AF_UNIX, SOCK_STREAM, 0, p.a));
  pthread_t t;
  CHECK0(pthread_create(&t, NULL, socketpair_partner, &p));
  char c = 'x';
  for (long i = 0; i < n; i++) {
    if (send(p.a[0], &c, 1, 0) != 1)
      fail("send", errno);
    if (recv(p.a[0], &c, 1, 0) != 1)
      fail("recv", errno);
  }
  CHECK0(pthread_join(t, NULL));
  close(p.a[0]);
  close(p.a[1]);
}

/* epoll_pingpong: as socketpair_pingpong, but each side waits in epoll_wait on its non-blocking end
 * before reading it; one op is a round trip (two epoll_waits, two sends, two recvs). */
static void epoll_side(int fd, long n, int first_send) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    fail("epoll_create1", errno);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  CHECK0(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  char c = 'x';
  for (long i = 0; i < n; i++) {
    if (first_send && send(fd, &c, 1, 0) != 1)
      fail("send", errno);
    struct epoll_event got;
    if (epoll_wait(ep, &got, 1, -1) != 1)
      fail("epoll_wait", errno);
    if (recv(fd, &c, 1, 0) != 1)
      fail("recv", errno);
    if (!first_send && send(fd, &c, 1, 0) != 1)
      fail("send (partner)", errno);
  }
  close(ep);
}

static void *epoll_partner(void *arg) {
  struct pp *p = arg;
  epoll_side(p->a[1], p->n, 0);
  return NULL;
}

static void run_epoll_pingpong(long n) {
  struct pp p = {.n = n};
  CHECK0(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.a));
  pthread_t t;
  CHECK0(pthread_create(&t, NULL, epoll_partner, &p));
  epoll_side(p.a[0], n, 1);
  CHECK0(pthread_join(t, NULL));
  close(p.a[0]);
  close(p.a[1]);
}

struct bench {
  const char *name;
  void (*run)(long n);
  long iterations; /* about 0.3-1 s bare on a 2-core machine */
  long warm_min;   /* at least this many warm-up iterations (-1: none, only the set-up) */
  int mt;          /* run with an idle second thread alive */
};

static const struct bench benches[] = {
    {"lock", run_lock, 60000000, 0, 0},
    {"lock_mt", run_lock, 20000000, 0, 1},
    {"nested4", run_nested4, 15000000, 0, 0},
    {"nested4_mt", run_nested4, 5000000, 0, 1},
    {"create_join", run_create_join, 12000, 0, 0},
    {"pipe_pingpong", run_pipe_pingpong, 25000, 0, 0},
    {"file_rw", run_file_rw, 100000, 0, 0},
    {"condvar_pingpong", run_condvar_pingpong, 25000, 0, 0},
    {"lock_contended", run_lock_contended, 1000000, 0, 0},
    /* NAME_prof: NAME again; scripts/bench.sh runs these preloaded with THREADWATCH_PROFILE=
     * block,mutex, and compares them with NAME preloaded (profile on / off). */
    {"lock_prof", run_lock, 60000000, 0, 0},
    {"lock_mt_prof", run_lock, 20000000, 0, 1},
    {"lock_contended_prof", run_lock_contended, 1000000, 0, 0},
    {"condvar_pingpong_prof", run_condvar_pingpong, 25000, 0, 0},
    {"eventfd_pingpong", run_eventfd_pingpong, 25000, 0, 0},
    {"buckets1m", run_buckets1m, 3000000, BUCKETED_MUTEXES, 0},
    {"buckets1m_first", run_buckets1m_first, BUCKETED_MUTEXES, -1, 0},
    {"sem_pingpong", run_sem_pingpong, 25000, 0, 0},
    {"spin_lock", run_spin_lock, 60000000, 0, 0},
    {"spin_lock_mt", run_spin_lock, 20000000, 0, 1},
    {"socketpair_pingpong", run_socketpair_pingpong, 25000, 0, 0},
    {"epoll_pingpong", run_epoll_pingpong, 25000, 0, 0},
    {"cond_herd1k", run_cond_herd1k, 20, 0, 0},
    {"cond_herd10k", run_cond_herd10k, 3, 0, 0},
    {"pipe_herd1k", run_pipe_herd1k, 20, 0, 0},
    {"pipe_herd10k", run_pipe_herd10k, 3, 0, 0},
    {"held1k", run_held1k, 5000, 0, 0},
    {"held1k_first", run_held1k_first, 50, -1, 0},
};
#define NBENCH (sizeof benches / sizeof benches[0])

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: bench_hooks [--quick] [-i ITERATIONS] NAME... | all | list\n"
      "  prints \"NAME NS_PER_OP MAXRSS_KB\" per benchmark; BENCH_QUICK=1 is the same as "
      "--quick\nnames:");
  for (size_t i = 0; i < NBENCH; i++)
    fprintf(f, " %s", benches[i].name);
  fprintf(f, "\n");
}

static void run_one(const struct bench *b, long iterations) {
  pthread_t idle;
  if (b->mt) {
    g_idle_stop = 0;
    CHECK0(pthread_create(&idle, NULL, idle_thread, NULL));
  }
  long warm = iterations / 20 > 0 ? iterations / 20 : 1;
  if (warm < b->warm_min) warm = b->warm_min;
  b->run(b->warm_min >= 0 ? warm : 0); /* run(0) only sets up */
  double t0 = now_ns();
  b->run(iterations);
  double t1 = now_ns();
  if (b->mt) {
    pthread_mutex_lock(&g_idle_mu);
    g_idle_stop = 1;
    pthread_cond_signal(&g_idle_cv);
    pthread_mutex_unlock(&g_idle_mu);
    CHECK0(pthread_join(idle, NULL));
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%s %.1f %ld\n", b->name, (t1 - t0) / (double)iterations, ru.ru_maxrss);
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *q = getenv("BENCH_QUICK");
  int quick = q && *q && strcmp(q, "0") != 0;
  long forced = 0;
  int first = argc;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) {
      forced = strtol(argv[++i], NULL, 10);
      if (forced <= 0) {
        usage(stderr);
        return 2;
      }
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else {
      first = i;
      break;
    }
  }
  if (first >= argc) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[first], "list") == 0) {
    for (size_t i = 0; i < NBENCH; i++)
      printf("%s\n", benches[i].name);
    return 0;
  }
  for (int a = first; a < argc; a++) {
    int all = strcmp(argv[a], "all") == 0, found = 0;
    for (size_t i = 0; i < NBENCH; i++) {
      if (!all && strcmp(argv[a], benches[i].name) != 0)
        continue;
      found = 1;
      long n = forced ? forced : benches[i].iterations;
      if (quick && !forced)
        n = n / 50 > 0 ? n / 50 : 1;
      run_one(&benches[i], n);
    }
    if (!found) {
      fprintf(stderr, "bench_hooks: unknown benchmark '%s'\n", argv[a]);
      usage(stderr);
      return 2;
    }
  }
  if (g_file_fd >= 0)
    close(g_file_fd);
  return 0;
}
