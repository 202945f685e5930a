/* Programs that hang on purpose (or stay busy), for tests/attach/run.sh: `threadwatch attach` must
 * tell what each thread waits for and whether it is a deadlock. They run WITHOUT the preload.
 *
 *   hang abba        T2 (transfer) holds lock_a and wants lock_b, T3 (audit) the reverse; main
 *                    joins T2: a wait-cycle of two mutexes.
 *   hang relock      T2 (relock) locks lock_a twice (a default mutex): a self-relock.
 *   hang join        T2 joins T3 and T3 joins T2; main joins T2: a wait-cycle of joins.
 *   hang pipe        T2 reads pipe 1 before it would write pipe 2, T3 reads pipe 2 before it would
 *                    write pipe 1; main joins T2: every thread asleep.
 *   hang condvar     T2 and T3 wait on a condvar nobody signals; main joins T2: every thread asleep.
 *   hang epoll       T2 (serve) in epoll_wait on a listening TCP socket and an eventfd, plus the
 *                    abba pair (T3, T4); main joins T3: a wait-cycle, the server is not part of it.
 *   hang kinds       main holds an rwlock for reading and joins T2; T2 (writer) wants it for
 *                    writing, T3 (sem_waiter) waits on a semaphore at 0, T4 (barrier_waiter) at a
 *                    barrier of 3: every thread asleep.
 *   hang busy        healthy: two threads ping-pong a token through two pipes, a producer and a
 *                    consumer share a condvar queue, a sleeper naps; main prints "tick N" lines
 *                    in order, forever. Nothing is stuck.
 *
 * Each prints "ready" on stdout once every thread is where it should be, which it finds out by
 * looking at /proc (tests/integration/tw_test.h), never by sleeping. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "../integration/tw_test.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nobody_signals = PTHREAD_COND_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static atomic_int holding;          /* threads of the pair that hold their first lock */
static _Atomic pid_t tids[8];       /* the tids of the threads, by role */
static pthread_t handles[8];
static atomic_int handles_set;
static int left_pipe[2], right_pipe[2];

static void ready(void) {
  printf("ready\n");
  fflush(stdout);
}

/* Waits until the thread of role i has started and is blocked in system call nr. */
static void wait_for_one(int i, long nr) {
  unsigned long spins = 0;
  while (atomic_load(&tids[i]) == 0) tw_test_pause(&spins, "thread to start", i, 0);
  tw_test_wait_in_syscall(atomic_load(&tids[i]), nr);
}

static void wait_for(int n, long nr) {
  for (int i = 0; i < n; i++) wait_for_one(i, nr);
}

/* The pair takes its first locks, waits until both hold one, then takes the other. */
static void wait_pair(void) {
  unsigned long spins = 0;
  atomic_fetch_add(&holding, 1);
  while (atomic_load(&holding) < 2) tw_test_pause(&spins, "the other to hold its lock", 0, 0);
}

TW_NOINLINE static void *transfer(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  pthread_mutex_lock(&lock_a);
  wait_pair();
  pthread_mutex_lock(&lock_b); /* held by audit: blocks forever */
  return NULL;
}

TW_NOINLINE static void *audit(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  pthread_mutex_lock(&lock_b);
  wait_pair();
  pthread_mutex_lock(&lock_a); /* held by transfer: blocks forever */
  return NULL;
}

TW_NOINLINE static void *relock(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  pthread_mutex_lock(&lock_a);
  pthread_mutex_lock(&lock_a); /* a default mutex: blocks forever */
  return NULL;
}

TW_NOINLINE static void *join_other(void *arg) {
  long me = (long)arg;
  atomic_store(&tids[me], tw_test_gettid());
  unsigned long spins = 0;
  while (atomic_load(&handles_set) == 0) tw_test_pause(&spins, "handles", 0, 0);
  pthread_join(handles[me == 0 ? 1 : 0], NULL); /* each joins the other */
  return NULL;
}

TW_NOINLINE static void *pipe_left(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  char c;
  if (read(left_pipe[0], &c, 1) == 1) (void)!write(right_pipe[1], &c, 1); /* never gets there */
  return NULL;
}

TW_NOINLINE static void *pipe_right(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  char c;
  if (read(right_pipe[0], &c, 1) == 1) (void)!write(left_pipe[1], &c, 1);
  return NULL;
}

TW_NOINLINE static void *cond_waiter(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  pthread_mutex_lock(&queue_lock);
  for (;;) pthread_cond_wait(&nobody_signals, &queue_lock);
  return NULL;
}

static int listener, efd;

TW_NOINLINE static void *serve(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.fd = listener;
  TW_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) == 0);
  ev.data.fd = efd;
  TW_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0);
  for (;;) {
    struct epoll_event got[4];
    int n = epoll_wait(ep, got, 4, -1); /* EINTR when a tracer stops us: wait again */
    for (int i = 0; i < n; i++)
      if (got[i].data.fd == listener) close(accept(listener, NULL, NULL));
  }
  return NULL;
}

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static sem_t slots;
static pthread_barrier_t start_line;

TW_NOINLINE static void *writer(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  pthread_rwlock_wrlock(&table_lock); /* main reads it forever */
  return NULL;
}

TW_NOINLINE static void *sem_waiter(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  sem_wait(&slots); /* nobody posts */
  return NULL;
}

TW_NOINLINE static void *barrier_waiter(void *arg) {
  atomic_store(&tids[(long)arg], tw_test_gettid());
  pthread_barrier_wait(&start_line); /* 1 of 3 ever arrives */
  return NULL;
}

/* --- busy --- */

static int ping[2], pong[2];
static long queue_items;

TW_NOINLINE static void *pinger(void *arg) {
  (void)arg;
  char c = 'x';
  for (;;) {
    TW_CHECK(write(ping[1], &c, 1) == 1);
    TW_CHECK(read(pong[0], &c, 1) == 1);
  }
  return NULL;
}

TW_NOINLINE static void *ponger(void *arg) {
  (void)arg;
  char c;
  for (;;) {
    TW_CHECK(read(ping[0], &c, 1) == 1);
    TW_CHECK(write(pong[1], &c, 1) == 1);
  }
  return NULL;
}

TW_NOINLINE static void *producer(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&queue_lock);
    while (queue_items >= 100) pthread_cond_wait(&queue_cond, &queue_lock);
    queue_items++;
    pthread_cond_broadcast(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
  }
  return NULL;
}

TW_NOINLINE static void *consumer(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&queue_lock);
    while (queue_items == 0) pthread_cond_wait(&queue_cond, &queue_lock);
    queue_items--;
    pthread_cond_broadcast(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
  }
  return NULL;
}

TW_NOINLINE static void *sleeper(void *arg) {
  (void)arg;
  for (;;) tw_test_sleep_ms(1000); /* a timed wait: never stuck */
  return NULL;
}

static int busy(void) {
  TW_CHECK(pipe(ping) == 0 && pipe(pong) == 0);
  pthread_t t[5];
  TW_OK(pthread_create(&t[0], NULL, pinger, NULL));
  TW_OK(pthread_create(&t[1], NULL, ponger, NULL));
  TW_OK(pthread_create(&t[2], NULL, producer, NULL));
  TW_OK(pthread_create(&t[3], NULL, consumer, NULL));
  TW_OK(pthread_create(&t[4], NULL, sleeper, NULL));
  ready();
  for (long n = 1;; n++) { /* the output the test checks stays in order while attached */
    printf("tick %ld\n", n);
    fflush(stdout);
    tw_test_sleep_ms(10);
  }
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  pthread_t t[3];
  if (strcmp(mode, "abba") == 0) {
    TW_OK(pthread_create(&t[0], NULL, transfer, (void *)0));
    TW_OK(pthread_create(&t[1], NULL, audit, (void *)1));
    wait_for(2, SYS_futex);
  } else if (strcmp(mode, "relock") == 0) {
    TW_OK(pthread_create(&t[0], NULL, relock, (void *)0));
    wait_for(1, SYS_futex);
  } else if (strcmp(mode, "join") == 0) {
    TW_OK(pthread_create(&handles[0], NULL, join_other, (void *)0));
    TW_OK(pthread_create(&handles[1], NULL, join_other, (void *)1));
    atomic_store(&handles_set, 1);
    t[0] = handles[0];
    wait_for(2, SYS_futex);
  } else if (strcmp(mode, "pipe") == 0) {
    TW_CHECK(pipe(left_pipe) == 0 && pipe(right_pipe) == 0);
    TW_OK(pthread_create(&t[0], NULL, pipe_left, (void *)0));
    TW_OK(pthread_create(&t[1], NULL, pipe_right, (void *)1));
    wait_for(2, SYS_read);
  } else if (strcmp(mode, "condvar") == 0) {
    TW_OK(pthread_create(&t[0], NULL, cond_waiter, (void *)0));
    TW_OK(pthread_create(&t[1], NULL, cond_waiter, (void *)1));
    wait_for(2, SYS_futex);
  } else if (strcmp(mode, "epoll") == 0) {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    TW_CHECK(bind(listener, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(listener, 8) == 0);
    efd = eventfd(0, EFD_CLOEXEC);
    TW_OK(pthread_create(&t[2], NULL, serve, (void *)2));
    TW_OK(pthread_create(&t[0], NULL, transfer, (void *)0));
    TW_OK(pthread_create(&t[1], NULL, audit, (void *)1));
    wait_for(2, SYS_futex);
    wait_for_one(2, SYS_epoll_wait);
  } else if (strcmp(mode, "kinds") == 0) {
    TW_CHECK(sem_init(&slots, 0, 0) == 0);
    TW_OK(pthread_barrier_init(&start_line, NULL, 3));
    TW_OK(pthread_rwlock_rdlock(&table_lock));
    TW_OK(pthread_create(&t[0], NULL, writer, (void *)0));
    TW_OK(pthread_create(&t[1], NULL, sem_waiter, (void *)1));
    TW_OK(pthread_create(&t[2], NULL, barrier_waiter, (void *)2));
    wait_for(3, SYS_futex);
  } else if (strcmp(mode, "busy") == 0) {
    return busy();
  } else {
    fprintf(stderr, "usage: hang abba|relock|join|pipe|condvar|epoll|kinds|busy\n");
    return 2;
  }
  ready();
  pthread_join(t[0], NULL); /* forever */
  return 0;
}
