/* Live blocking analysis: every tick the reporter reads each thread's wait state and decides which
 * blocked threads can never be woken (deadlocks), which have waited too long (stalls), and whether a
 * stalled condvar waiter missed a signal sent before it began waiting (lost wakeups).
 *
 * The wait-for graph. Each blocked thread has a rule saying who can end its wait:
 *   mutex, rwlock   the holder(s): the mutex owner (glibc's __owner), the rwlock writer
 *                   (__cur_writer), and blocked threads whose published held set has the rwlock.
 *                   The wait is stuck if some holder is stuck (or the owner has exited).
 *   join            the target thread: stuck if the target is stuck.
 *   pipe, eventfd   the threads that wrote (for a reader; read, for a writer) it before: stuck if all
 *                   of them are stuck. Nobody known: anyone else could, as for a condvar. Never stuck
 *                   when another process may hold the object (it existed at a fork or spawn, the other
 *                   end is not open here) or when a signal handler is installed (self-pipe trick).
 *   condvar         anyone: stuck only if every other thread is stuck.
 *   timed waits     never stuck: they end by themselves.
 * The stuck set is the greatest fixpoint: start from every thread in an untimed wait, drop those whose
 * rule some non-stuck thread can satisfy, repeat. Cycles among stuck threads are `wait-cycle`
 * deadlocks; a thread relocking its own mutex is `self-relock`; every thread stuck is `all-asleep`.
 * Threads seen blocked may be leaving their waits at that moment, so a deadlock is reported only when
 * a second look TW_DEADLOCK_CONFIRM_NS later finds the same threads in the same wait episodes, and
 * the kernel shows each of them asleep in its call on its object (prove_stuck). A stall needs the
 * same kernel proof, and a join stall a target that made no progress. */
#include "detect/waits.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#include <uthash.h>

#include "runtime/fdtrack.h"
#include "runtime/fdset.h"
#include "runtime/feeders.h"
#include "report/format.h"
#include "detect/misuse.h"
#include "detect/waitfor.h"
#include "base/options.h"
#include "base/out.h"
#include "runtime/registry.h"
#include "report/report.h"
#include "runtime/stackdepot.h"
#include "runtime/tls.h"
#include "base/tw.h"
#include "runtime/unwind_other.h"
#include "report/emit.h"
#include "report/build.h"
#include "report/dump.h"

_Atomic uint32_t tw__scans_done;

/* glibc's marks of process-shared objects (nptl/pthreadP.h, pthread_cond_common.c): the
 * PTHREAD_MUTEX_PSHARED_BIT of a mutex's __kind, bit 0 of a condvar's __wrefs. */
#define TW_MUTEX_PSHARED_BIT 128
#define TW_COND_SHARED_BIT 1

struct node {
  struct tw_wf_node wf;     /* first: the solver's view (detect/waitfor.h) */
  struct tw_thread_snap s;
  bool self_relock;         /* waits for a lock it holds itself */
  bool outside;             /* only something outside the process can end it (a socket to another
                             * process, a set with such an fd): never stuck, and not a stall */
  int32_t owner_tid;        /* lock waits: the holder's tid from the lock word (0 if none) */
};

struct graph {
  struct node *n;
  size_t count, cap;
  size_t alive;         /* nodes that have not exited */
  bool untracked;       /* the process has threads threadwatch does not know */
};

/* --- facts kept across scans ------------------------------------------------------------------ */

/* Signals that found no waiter, by condvar (the latest one). Bounded: past TW_NOWAITER_MAX condvars
 * the oldest evidence is forgotten, which only turns a later lost-wakeup into a plain stall. */
#define TW_NOWAITER_MAX 4096
struct nowaiter {
  uintptr_t cond;
  uint64_t when_ns, thread;
  uint32_t stack;
  UT_hash_handle hh;
};
static struct nowaiter *nowaiters;
static size_t nnowaiters;

/* Per thread: the wait episodes already reported, so each is reported once. */
struct seen {
  uint64_t id;
  uint32_t stall_episode, dead_episode, checked_episode;
  bool stalled, dead, checked; /* checked: confirmed stuck (reported or deliberately not) */
  bool alive; /* seen in this scan (records of reaped threads are dropped) */
  /* A join's target making progress (running, runnable, or using CPU) restarts the join's stall
   * clock: a join of a thread that is still working is slow, not stuck. */
  bool join_tracked;
  uint32_t join_episode;
  uint64_t target_cpu_ns, progress_ns;
  UT_hash_handle hh;
};
static struct seen *seen_tab;

static struct seen *seen_of(uint64_t id) {
  struct seen *e = NULL;
  HASH_FIND(hh, seen_tab, &id, sizeof(id), e);
  if (!e && (e = calloc(1, sizeof(*e)))) {
    e->id = id;
    HASH_ADD(hh, seen_tab, id, sizeof(uint64_t), e);
  }
  return e;
}

void tw_waits_on_event(const struct tw_event *ev, uint64_t thread) {
  if (ev->type == TW_EV_LOCK_RANGE_GONE) { /* an unloaded module's condvars: no evidence left */
    struct nowaiter *w, *tmp;
    HASH_ITER(hh, nowaiters, w, tmp) {
      if (w->cond < ev->a || w->cond >= ev->b) continue;
      HASH_DEL(nowaiters, w);
      free(w);
      nnowaiters--;
    }
    return;
  }
  if (ev->type != TW_EV_COND_NOWAITER) return;
  uintptr_t cond = (uintptr_t)ev->a;
  struct nowaiter *w = NULL;
  HASH_FIND(hh, nowaiters, &cond, sizeof(cond), w);
  if (!w) {
    if (nnowaiters >= TW_NOWAITER_MAX) { /* forget the oldest (the hash keeps insertion order) */
      struct nowaiter *old = nowaiters;
      HASH_DEL(nowaiters, old);
      free(old);
      nnowaiters--;
    }
    if (!(w = calloc(1, sizeof(*w)))) return;
    w->cond = cond;
    HASH_ADD(hh, nowaiters, cond, sizeof(uintptr_t), w);
    nnowaiters++;
  }
  w->when_ns = ev->c;
  w->thread = thread;
  w->stack = ev->stack;
}

/* --- reading the process ---------------------------------------------------------------------- */

/* Reads an int of the application's memory without trusting it is still mapped: the lock may have
 * been freed since its waiter was seen. process_vm_readv on ourselves fails with EFAULT instead of
 * faulting; where it is not allowed, a direct read (the waiter still blocks on it, so it is there). */
static int read_int(const void *addr, int *out) {
  int r = tw_peek(addr, out, sizeof(*out));
  if (r == -EFAULT) return -1;
  if (r != 0) *out = __atomic_load_n((const int *)addr, __ATOMIC_RELAXED);
  return 0;
}

static bool task_exists(int32_t tid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
  return access(path, F_OK) == 0;
}

static bool task_is_zombie(const char *tid) {
  char path[64], buf[256];
  snprintf(path, sizeof(path), "/proc/self/task/%s/stat", tid);
  FILE *f = fopen(path, "re");
  if (!f) return true; /* gone meanwhile */
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the state follows the command name, which may hold ')' */
  return p && (p[2] == 'Z' || p[2] == 'X');
}

/* Threads of this process that are not ours to see (not application threads we know, not the
 * reporter): their existence means a condvar waiter might yet be signalled. */
static bool has_untracked_threads(size_t alive) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return true; /* cannot tell: assume someone may wake the waiters */
  size_t tasks = 0;
  bool zombies_checked = false;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    tasks++;
    if (tasks <= alive + 1 || zombies_checked) continue;
    /* More tasks than we know: a main thread that called pthread_exit stays listed as a zombie
     * until the process ends. Count only the live ones (checked once, when it matters). */
    zombies_checked = true;
    rewinddir(d);
    tasks = 0;
    for (struct dirent *t; (t = readdir(d));)
      if (t->d_name[0] != '.' && !task_is_zombie(t->d_name)) tasks++;
    break;
  }
  closedir(d);
  return tasks > alive + 1; /* + the reporter */
}

/* A handler for any catchable signal may write a pipe or eventfd (the self-pipe trick). */
static bool signal_handlers_installed(void) {
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0) continue;
    if ((sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN))
      return true;
  }
  return false;
}

/* The kernel's word that a thread is asleep inside the very call its wait state names.
 * /proc/self/task/TID/syscall reads "running" for a task on a CPU or runnable, and for a sleeping
 * one the system call number and its arguments. A wait state is published before the real call
 * and cleared after it returns, so a thread preempted in either window (for tens of ms beside busy
 * threads), or one that left the call by siglongjmp, has a wait state but is not asleep in the
 * call: it can still act (write the pipe its partner reads), and no deadlock or stall may rest on
 * it. Our own thread group's entries need no ptrace permission. One small read, made only when a
 * deadlock or stall is about to be reported. */
enum proof { P_ASLEEP, P_NOT, P_UNKNOWN };

static bool in_object(unsigned long addr, uintptr_t obj, size_t size) {
  return obj && addr >= obj && addr < obj + size;
}

static enum proof asleep_in_call(const struct tw_thread_snap *s) {
  const struct tw_wait_snap *w = &s->wait;
  enum tw_wait_class cls = tw_call_class(w->call);
  /* A spinlock waiter is never asleep: it spins on a CPU ("running"). Its proof is the rest: the
   * same wait episode after the second look, and a holder that is itself stuck. */
  if (cls == TW_WC_SPIN) return P_UNKNOWN;
  char path[64], buf[256];
  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", s->tid);
  FILE *f = fopen(path, "re");
  if (!f) return P_UNKNOWN;
  bool got = fgets(buf, sizeof(buf), f) != NULL;
  fclose(f);
  if (!got) return P_UNKNOWN;
  if (strncmp(buf, "running", 7) == 0) return P_NOT;
  long nr = -1;
  unsigned long a0 = 0;
  if (sscanf(buf, "%ld %lx", &nr, &a0) != 2) return P_UNKNOWN;
  bool futex = nr == SYS_futex;
  switch (cls) {
    case TW_WC_FD: { /* glibc's eventfd_read/_write and __read_chk are read and write */
      bool rd = w->call == TW_CALL_READ || w->call == TW_CALL_EVENTFD_READ;
      return nr == (rd ? SYS_read : SYS_write) && a0 == (unsigned long)(unsigned)w->fd ? P_ASLEEP
                                                                                      : P_NOT;
    }
    case TW_WC_MUTEX:
      return futex && in_object(a0, w->obj, sizeof(pthread_mutex_t)) ? P_ASLEEP : P_NOT;
    case TW_WC_RWLOCK:
      return futex && in_object(a0, w->obj, sizeof(pthread_rwlock_t)) ? P_ASLEEP : P_NOT;
    case TW_WC_COND: /* the condvar's futex, or its mutex being taken again after the wake-up */
      return futex && (in_object(a0, w->obj, sizeof(pthread_cond_t)) ||
                       in_object(a0, w->obj2, sizeof(pthread_mutex_t)))
                 ? P_ASLEEP
                 : P_NOT;
    case TW_WC_JOIN: /* the target's tid word, in its struct pthread (which pthread_t points to) */
      return futex && in_object(a0, w->obj, 4096) ? P_ASLEEP : P_NOT;
    case TW_WC_SEM:
      return futex && in_object(a0, w->obj, sizeof(sem_t)) ? P_ASLEEP : P_NOT;
    case TW_WC_BARRIER:
      return futex && in_object(a0, w->obj, sizeof(pthread_barrier_t)) ? P_ASLEEP : P_NOT;
    case TW_WC_FUTEX: /* the word itself (a requeue moves a waiter to another: then not proven) */
      return futex && in_object(a0, w->obj, 4) ? P_ASLEEP : P_NOT;
    default: return P_UNKNOWN; /* a kind of wait this proof does not know: the old treatment */
  }
}

/* --- the graph ------------------------------------------------------------------------------- */


static int32_t index_of_id(const struct graph *g, uint64_t id) {
  size_t lo = 0, hi = g->count;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (g->n[mid].s.id == id) return (int32_t)mid;
    if (g->n[mid].s.id < id) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

static int32_t index_of_tid(const struct graph *g, int32_t tid) {
  for (size_t i = 0; i < g->count; i++)
    if (g->n[i].s.tid == tid && g->n[i].s.life != TW_LIFE_EXITED) return (int32_t)i;
  return -1;
}

static int32_t index_of_handle(const struct graph *g, uintptr_t h) {
  for (size_t i = 0; i < g->count; i++)
    if (g->n[i].s.handle == h && g->n[i].s.life != TW_LIFE_EXITED) return (int32_t)i;
  return -1;
}

/* A lock wait whose holder's tid is `owner`. `shared`: a process-shared lock, which a thread of
 * another process may hold (its tid means nothing here). */
static void lock_owner_rule(struct graph *g, size_t i, int32_t owner, bool shared) {
  struct node *nd = &g->n[i];
  nd->owner_tid = owner;
  if (owner == 0) return; /* no owner recorded: a reader holds it, or it is changing hands */
  if (owner == nd->s.tid) {
    /* The hook marks a real relock (aux_stack); without the mark, the thread has just taken the
     * lock and not yet cleared its wait. */
    if (nd->s.wait.aux_stack) {
      nd->self_relock = true;
      nd->wf.rule = TW_WF_SOME;
      tw_wf_add_ender(&nd->wf, (int32_t)i);
    }
    return;
  }
  int32_t h = index_of_tid(g, owner);
  if (h >= 0) {
    nd->wf.rule = TW_WF_SOME;
    tw_wf_add_ender(&nd->wf, h);
  } else if (!shared && !task_exists(owner)) {
    nd->wf.rule = TW_WF_ALWAYS; /* held by a thread that has exited: nobody will unlock it */
  }
}

static void rwlock_rule(struct graph *g, size_t i) {
  struct node *nd = &g->n[i];
  pthread_rwlock_t *l = (pthread_rwlock_t *)nd->s.wait.obj;
  int writer = 0, shared = 0;
  if (read_int(&l->__data.__cur_writer, &writer) != 0 || read_int(&l->__data.__shared, &shared) != 0)
    return;
  if (writer) {
    lock_owner_rule(g, i, writer, shared != 0);
    return;
  }
  if (shared) return; /* readers in other processes are invisible */
  /* Readers: the threads whose published held set has the lock (blocked ones publish it). */
  for (size_t j = 0; j < g->count; j++) {
    const struct tw_wait_snap *w = &g->n[j].s.wait;
    if (g->n[j].s.life == TW_LIFE_EXITED || w->call == TW_CALL_NONE) continue;
    for (uint32_t k = 0; k < w->nheld; k++) {
      if (w->held[k] != nd->s.wait.obj) continue;
      /* Holds it for reading and waits to write: forever (the hook marked it, with the stack). */
      if (j == i && nd->s.wait.aux_stack) nd->self_relock = true;
      nd->wf.rule = TW_WF_SOME;
      tw_wf_add_ender(&nd->wf, (int32_t)j);
    }
  }
}

static void fd_rule(struct graph *g, size_t i, bool *handlers_checked, bool *handlers) {
  struct node *nd = &g->n[i];
  int fd = nd->s.wait.fd;
  uint8_t kind = tw_fd_get(fd) & TW_FD_KIND_MASK;
  if (!kind) return; /* closed or no longer ours to follow */
  uint32_t obj = (unsigned)fd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdobj[fd]) : 0;
  if (!obj || obj <= tw_load_relaxed(&tw__fdobj_at_fork)) return; /* another process may feed it */
  bool reading = nd->s.wait.call == TW_CALL_READ || nd->s.wait.call == TW_CALL_EVENTFD_READ;
  if (kind != TW_FD_EVENTFD && !tw_fd_obj_open(fd, reading ? TW_FD_PIPE_W : TW_FD_PIPE_R))
    return; /* the other end is not open here, yet the call blocks: another process holds it */
  if (!*handlers_checked) {
    *handlers = signal_handlers_installed();
    *handlers_checked = true;
  }
  if (*handlers) return;
  uint64_t ids[TW_FD_FACT_THREADS];
  unsigned n = tw_fdfacts_threads(fd, reading ? TW_EV_IO_WRITE : TW_EV_IO_READ, ids,
                                  TW_FD_FACT_THREADS);
  nd->wf.rule = TW_WF_OTHERS;
  if (n == 0 || n > TW_FD_FACT_THREADS) return;
  for (unsigned k = 0; k < n; k++) {
    int32_t j = index_of_id(g, ids[k]);
    if (j >= 0 && (size_t)j != i && g->n[j].s.life != TW_LIFE_EXITED) tw_wf_add_ender(&nd->wf, j);
  }
  if (nd->wf.nend) nd->wf.rule = TW_WF_ALL; /* else the known ones are gone: anyone else might write */
}

/* --- rules of the waits added by issue 14 (semaphores, barriers, spinlocks, futexes, sockets,
 * multiplexers); the same graph, the same solver --- */

/* A wait that the threads `ids` (n of them, TW_FD_FACT_THREADS + 1: more than remembered) fed
 * before can end: stuck if all of them are; nobody known (or all gone): anyone else might, as for
 * a condvar. */
static void feeders_rule(struct graph *g, size_t i, const uint64_t *ids, unsigned n) {
  struct node *nd = &g->n[i];
  nd->wf.rule = TW_WF_OTHERS;
  if (n == 0 || n > TW_FD_FACT_THREADS) return;
  for (unsigned k = 0; k < n; k++) {
    int32_t j = index_of_id(g, ids[k]);
    if (j >= 0 && (size_t)j != i && g->n[j].s.life != TW_LIFE_EXITED) tw_wf_add_ender(&nd->wf, j);
  }
  if (nd->wf.nend) nd->wf.rule = TW_WF_ALL;
}

static bool handlers_present(bool *checked, bool *handlers) {
  if (!*checked) {
    *handlers = signal_handlers_installed();
    *checked = true;
  }
  return *handlers;
}

/* sem_wait: the threads that posted it before. A process-shared or named semaphore (glibc's
 * `private` word, at offset 8, is FUTEX_SHARED) may be posted by another process, and any
 * semaphore by a signal handler (sem_post is async-signal-safe): never stuck then. */
static void sem_rule(struct graph *g, size_t i, bool *handlers_checked, bool *handlers) {
  struct node *nd = &g->n[i];
  int shared = 0;
  if (read_int((const char *)nd->s.wait.obj + 8, &shared) != 0 || shared != 0) return;
  if (handlers_present(handlers_checked, handlers)) return;
  uint64_t ids[TW_FD_FACT_THREADS];
  unsigned n = tw_feeders_threads(nd->s.wait.obj, ids, TW_FD_FACT_THREADS, NULL);
  feeders_rule(g, i, ids, n);
}

/* pthread_barrier_wait: the missing arrivals can come from any other thread (one created later
 * too): stuck only when every other thread is. A process-shared barrier (glibc's `shared` word,
 * offset 12, non-zero) may be completed from another process. */
static void barrier_rule(struct graph *g, size_t i) {
  struct node *nd = &g->n[i];
  int shared = 0;
  if (read_int((const char *)nd->s.wait.obj + 12, &shared) != 0 || shared != 0) return;
  nd->wf.rule = TW_WF_OTHERS;
}

/* pthread_spin_lock: the holders, found as for rwlock readers: blocked threads whose published held
 * set has the lock (a holder that runs is not stuck, so it need not be found). A thread spinning on
 * a lock it holds itself spins forever (the hook marked it, with where it took it). */
static void spin_rule(struct graph *g, size_t i) {
  struct node *nd = &g->n[i];
  for (size_t j = 0; j < g->count; j++) {
    const struct tw_wait_snap *w = &g->n[j].s.wait;
    if (g->n[j].s.life == TW_LIFE_EXITED || w->call == TW_CALL_NONE) continue;
    for (uint32_t k = 0; k < w->nheld; k++) {
      if (w->held[k] != nd->s.wait.obj) continue;
      if (j == i && !nd->s.wait.aux_stack) continue; /* taken just now, wait not yet cleared */
      if (j == i) nd->self_relock = true;
      nd->wf.rule = TW_WF_SOME;
      tw_wf_add_ender(&nd->wf, (int32_t)j);
    }
  }
}

/* Whether the page at addr is mapped privately (a futex word there can only be woken from this
 * process, whatever the futex operation says). */
static bool private_mapping(uintptr_t addr) {
  FILE *f = fopen("/proc/self/maps", "re");
  if (!f) return false;
  char line[512];
  bool priv = false;
  while (fgets(line, sizeof(line), f)) {
    unsigned long lo, hi;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3) continue;
    if (addr >= lo && addr < hi) {
      priv = perms[3] == 'p';
      break;
    }
  }
  fclose(f);
  return priv;
}

/* A futex wait (obj = the word, obj2 = the operation): the threads that woke that word before, as
 * for a semaphore. A shared futex (no FUTEX_PRIVATE_FLAG) on a shared mapping may be woken from
 * another process. */
static void futex_rule(struct graph *g, size_t i) {
  struct node *nd = &g->n[i];
  if (!(nd->s.wait.obj2 & FUTEX_PRIVATE_FLAG) && !private_mapping(nd->s.wait.obj)) return;
  uint64_t ids[TW_FD_FACT_THREADS];
  unsigned n = tw_feeders_threads(nd->s.wait.obj, ids, TW_FD_FACT_THREADS, NULL);
  feeders_rule(g, i, ids, n);
}

/* Whether an fd of a pipe, eventfd or socketpair is fed by this process alone: its object did not
 * exist at the last fork/spawn (nor was passed in an SCM_RIGHTS message), and the other end is open
 * here (else another process holds it, or the call would not block). */
static bool fed_here(int fd, uint8_t kind) {
  uint32_t obj = (unsigned)fd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdobj[fd]) : 0;
  if (!obj || obj <= tw_load_relaxed(&tw__fdobj_at_fork)) return false;
  uint8_t peer = tw_fd_peer_kind(kind);
  return peer == (kind & TW_FD_KIND_MASK) || tw_fd_obj_open(fd, peer);
}

/* A blocking call on a socket. A socketpair end waits for the threads that wrote the other end
 * before (reading; for a writer: that read it), like a pipe. Any other socket, or a socketpair
 * shared with another process, can be fed from outside: never stuck, and not a stall. A socket
 * with SO_RCVTIMEO/SO_SNDTIMEO ends its calls by itself. */
static void sock_rule(struct graph *g, size_t i, bool *handlers_checked, bool *handlers) {
  struct node *nd = &g->n[i];
  int fd = nd->s.wait.fd;
  uint8_t kind = tw_fd_get(fd), k = kind & TW_FD_KIND_MASK;
  if ((k != TW_FD_SPAIR_A && k != TW_FD_SPAIR_B) || !fed_here(fd, kind)) {
    nd->outside = true;
    return;
  }
  if ((kind & TW_FD_TIMEO) || handlers_present(handlers_checked, handlers)) return;
  bool reading = tw_call_sock_reads(nd->s.wait.call);
  uint64_t ids[TW_FD_FACT_THREADS];
  unsigned n = tw_fdfacts_threads_kind(fd, reading ? TW_EV_IO_WRITE : TW_EV_IO_READ,
                                       tw_fd_peer_kind(kind), ids, TW_FD_FACT_THREADS);
  feeders_rule(g, i, ids, n);
}

/* poll, select, epoll: the wait ends when any fd of the set is ready, that is when any thread that
 * fed one of them before feeds it again: stuck if all of those are stuck (with nobody known for
 * some fd: if everyone else is). A set with an fd that may be fed from outside (a socket to another
 * process, an fd of a kind not followed, an epoll instance that lost track), or that waits on no fd
 * at all (only a signal ends it), is never stuck, and not a stall. */
static void poll_rule(struct graph *g, size_t i, bool *handlers_checked, bool *handlers) {
  struct node *nd = &g->n[i];
  struct tw_fdset_entry set[TW_FDSET_MAX];
  int n = tw_fdset_of_wait(&nd->s.wait, set, TW_FDSET_MAX);
  if (n <= 0 || n > TW_FDSET_MAX) {
    nd->outside = true;
    return;
  }
  uint64_t all[TW_WF_MAX_ENDERS + 1];
  unsigned nall = 0;
  bool unknown = false;
  for (int k = 0; k < n; k++) {
    int fd = set[k].fd;
    uint8_t kind = tw_fd_get(fd);
    if (!tw_fd_kind_internal(kind) || !fed_here(fd, kind)) {
      nd->outside = true;
      return;
    }
    for (unsigned dir = TW_FDSET_IN; dir <= TW_FDSET_OUT; dir <<= 1) {
      if (!(set[k].dirs & dir)) continue;
      uint64_t ids[TW_FD_FACT_THREADS];
      unsigned c = tw_fdfacts_threads_kind(fd, dir == TW_FDSET_IN ? TW_EV_IO_WRITE : TW_EV_IO_READ,
                                           tw_fd_peer_kind(kind), ids, TW_FD_FACT_THREADS);
      if (c == 0 || c > TW_FD_FACT_THREADS) unknown = true;
      for (unsigned x = 0; x < c && x < TW_FD_FACT_THREADS; x++) {
        bool dup = false;
        for (unsigned y = 0; y < nall; y++) dup |= all[y] == ids[x];
        if (!dup && nall <= TW_WF_MAX_ENDERS) all[nall++] = ids[x];
      }
    }
  }
  if (handlers_present(handlers_checked, handlers)) return; /* the self-pipe trick */
  nd->wf.rule = TW_WF_OTHERS;
  if (unknown || nall > TW_WF_MAX_ENDERS) return;
  for (unsigned x = 0; x < nall; x++) {
    int32_t j = index_of_id(g, all[x]);
    if (j >= 0 && (size_t)j != i && g->n[j].s.life != TW_LIFE_EXITED) tw_wf_add_ender(&nd->wf, j);
  }
  if (nd->wf.nend) nd->wf.rule = TW_WF_ALL;
}

static void build_rules(struct graph *g) {
  bool handlers_checked = false, handlers = false;
  for (size_t i = 0; i < g->count; i++) {
    struct node *nd = &g->n[i];
    const struct tw_wait_snap *w = &nd->s.wait;
    nd->wf.rule = TW_WF_NEVER;
    if (nd->s.life == TW_LIFE_EXITED || w->call == TW_CALL_NONE || tw_call_timed(w->call)) continue;
    switch (tw_call_class(w->call)) {
      case TW_WC_MUTEX: {
        pthread_mutex_t *m = (pthread_mutex_t *)w->obj;
        int owner = 0, kind = 0;
        if (read_int(&m->__data.__owner, &owner) == 0 && read_int(&m->__data.__kind, &kind) == 0)
          lock_owner_rule(g, i, owner, (kind & TW_MUTEX_PSHARED_BIT) != 0);
        break;
      }
      case TW_WC_RWLOCK: rwlock_rule(g, i); break;
      case TW_WC_JOIN: {
        int32_t t = index_of_handle(g, w->obj);
        if (t >= 0) {
          nd->wf.rule = TW_WF_SOME;
          tw_wf_add_ender(&nd->wf, t);
        }
        break;
      }
      case TW_WC_COND: { /* a process-shared condvar may be signalled from another process */
        int wrefs = 0;
        if (read_int(&((pthread_cond_t *)w->obj)->__data.__wrefs, &wrefs) == 0 &&
            !(wrefs & TW_COND_SHARED_BIT))
          nd->wf.rule = TW_WF_OTHERS;
        break;
      }
      case TW_WC_FD: fd_rule(g, i, &handlers_checked, &handlers); break;
      case TW_WC_SEM: sem_rule(g, i, &handlers_checked, &handlers); break;
      case TW_WC_BARRIER: barrier_rule(g, i); break;
      case TW_WC_SPIN: spin_rule(g, i); break;
      case TW_WC_FUTEX: futex_rule(g, i); break;
      case TW_WC_SOCK: sock_rule(g, i, &handlers_checked, &handlers); break;
      case TW_WC_POLL: poll_rule(g, i, &handlers_checked, &handlers); break;
      default: break; /* TW_WC_SLEEP: ends by itself */
    }
  }
}

static bool graph_load(struct graph *g) {
  g->untracked = false;
  size_t got = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&got); /* sorted by id */
  if (!snaps) return false;
  if (got > g->cap) {
    struct node *n = realloc(g->n, sizeof(*n) * got);
    if (!n) {
      free(snaps);
      return false;
    }
    g->n = n;
    g->cap = got;
  }
  g->count = 0;
  for (size_t i = 0; i < got; i++) {
    if (snaps[i].life == TW_LIFE_EXITED) continue; /* exited: not part of any wait */
    memset(&g->n[g->count], 0, sizeof(g->n[0]));
    g->n[g->count++].s = snaps[i];
  }
  g->alive = g->count;
  free(snaps);
  return true;
}

/* --- reports -------------------------------------------------------------------------------- */

static void fill_thread(struct tw_report_thread *rt, const struct graph *g, const struct node *nd,
                        uint64_t now) {
  tw_report_thread_from_snap(rt, &nd->s, now);
  enum tw_wait_class c = tw_call_class(nd->s.wait.call);
  if (c != TW_WC_MUTEX && c != TW_WC_RWLOCK && c != TW_WC_SPIN) return;
  for (uint32_t k = 0; k < nd->wf.nend && rt->nheld_by < TW_ARRAY_LEN(rt->held_by); k++)
    rt->held_by[rt->nheld_by++] = g->n[nd->wf.end[k]].s.id;
}

/* "pthread_mutex_lock() on mutex 0x... (held by T3) at f (x.c:3)" */
static void wait_phrase(char *buf, size_t n, const struct tw_report_thread *rt) {
  char where[200], held[48] = "";
  tw_report_where(rt->stack, where, sizeof(where));
  if (rt->nheld_by) snprintf(held, sizeof(held), " (held by T%llu)", (unsigned long long)rt->held_by[0]);
  snprintf(buf, n, "%s() on %s%s at %s", tw_call_name(rt->wait.call), rt->object, held, where);
}

/* The lost-wakeup evidence for wait w: a signal or broadcast of its condvar that found no waiter,
 * made before this wait began. NULL if none (or w is not a condvar wait). */
static const struct nowaiter *lost_wakeup_of(const struct tw_wait_snap *w) {
  if (tw_call_class(w->call) != TW_WC_COND) return NULL;
  struct nowaiter *nw = NULL;
  HASH_FIND(hh, nowaiters, &w->obj, sizeof(uintptr_t), nw);
  return nw && nw->when_ns <= w->since_ns ? nw : NULL;
}

/* Adds the lost-wakeup diagnosis of wait w to report r (the signaller, where it signalled, and a
 * sentence at message offset off). Returns false when there is none. */
static bool add_lost_wakeup(struct tw_report *r, const struct tw_wait_snap *w, size_t off) {
  const struct nowaiter *nw = lost_wakeup_of(w);
  if (!nw || off >= sizeof(r->message)) return false;
  r->signalled_by = nw->thread;
  r->signalled_at = nw->stack;
  char where[200];
  tw_report_where(nw->stack, where, sizeof(where));
  snprintf(r->message + off, sizeof(r->message) - off,
           ": a lost wakeup: T%llu signalled this condvar at %s %.2fs before the wait began, "
           "when no thread was waiting", (unsigned long long)nw->thread, where,
           (double)(w->since_ns - nw->when_ns) / 1e9);
  return true;
}

/* A deadlock report with a condvar waiter among its threads: the first whose wait missed a signal
 * says so (the all-asleep report would otherwise replace the lost-wakeup diagnosis). */
static void deadlock_lost_wakeup(struct tw_report *r) {
  for (uint32_t k = 0; k < r->nthreads; k++) {
    if (r->threads[k].state != TW_TS_BLOCKED) continue;
    size_t off = strlen(r->message);
    if (!lost_wakeup_of(&r->threads[k].wait) || off >= sizeof(r->message)) continue;
    /* "...; T3's wait is a lost wakeup: signalled by T2 at notify (x.c:12) 0.10s before this wait
     * began, with no waiter" */
    const struct nowaiter *nw = lost_wakeup_of(&r->threads[k].wait);
    char where[200];
    tw_report_where(nw->stack, where, sizeof(where));
    r->signalled_by = nw->thread;
    r->signalled_at = nw->stack;
    snprintf(r->message + off, sizeof(r->message) - off,
             "; T%llu's wait is a lost wakeup: signalled by T%llu at %s %.2fs before this wait "
             "began, with no waiter", (unsigned long long)r->threads[k].id,
             (unsigned long long)nw->thread, where,
             (double)(r->threads[k].wait.since_ns - nw->when_ns) / 1e9);
    return;
  }
}

static void emit_deadlock(struct tw_report *r) {
  deadlock_lost_wakeup(r);
  r->dropped = tw_registry_dropped();
  bool written = tw_report_emit(r);
  if (written && tw__opt.on_deadlock == TW_ON_DEADLOCK_ABORT) {
    static const char msg[] =
        "threadwatch: THREADWATCH_ON_DEADLOCK=abort: aborting so that a core dump shows the hang\n";
    tw__write_all(2, msg, sizeof(msg) - 1);
    abort();
  }
}

static void mark_dead(const struct node *nd) {
  struct seen *e = seen_of(nd->s.id);
  if (!e) return;
  e->dead = true;
  e->dead_episode = nd->s.wait.episode;
}

static bool dead_reported(const struct node *nd) {
  struct seen *e = NULL;
  HASH_FIND(hh, seen_tab, &nd->s.id, sizeof(uint64_t), e);
  return e && e->dead && e->dead_episode == nd->s.wait.episode;
}

static void report_self_relock(const struct graph *g, const struct node *nd, uint64_t now) {
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.kind = "deadlock";
  r.what = "self-relock";
  r.count = 1;
  r.nthreads = 1;
  fill_thread(&r.threads[0], g, nd, now);
  r.locked_at = nd->s.wait.aux_stack;
  char where[200], first[200];
  tw_report_where(r.threads[0].stack, where, sizeof(where));
  tw_report_where(r.locked_at, first, sizeof(first));
  /* The object as described for the thread: `mutex 0x...`, with its threadwatch_name_lock name. */
  snprintf(r.message, sizeof(r.message),
           "T%llu locks %s again at %s while it already holds it (taken at %s): it %s forever",
           (unsigned long long)nd->s.id, r.threads[0].object, where, first,
           tw_call_class(nd->s.wait.call) == TW_WC_SPIN ? "spins" : "blocks");
  emit_deadlock(&r);
}

/* A cycle of definite waits: each member waits for exactly the next one. */
static void report_cycle(const struct graph *g, const uint32_t *cyc, size_t len, uint64_t now) {
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.kind = "deadlock";
  r.what = "wait-cycle";
  r.count = (uint32_t)len;
  for (size_t k = 0; k < len && r.nthreads < TW_REPORT_MAX_THREADS; k++)
    fill_thread(&r.threads[r.nthreads++], g, &g->n[cyc[k]], now);
  size_t off = 0;
  char names[96] = "";
  for (size_t k = 0; k < len && k < 6; k++)
    off += (size_t)snprintf(names + off, sizeof(names) - off, "%sT%llu",
                            k == 0 ? "" : k + 1 == len ? " and " : ", ",
                            (unsigned long long)g->n[cyc[k]].s.id);
  off = (size_t)snprintf(r.message, sizeof(r.message),
                         "%s are blocked forever, each waiting for the next:", names);
  for (uint32_t k = 0; k < r.nthreads && off < sizeof(r.message); k++) {
    char phrase[320];
    wait_phrase(phrase, sizeof(phrase), &r.threads[k]);
    off += (size_t)snprintf(r.message + off, sizeof(r.message) - off, "%s T%llu in %s",
                            k ? ";" : "", (unsigned long long)r.threads[k].id, phrase);
  }
  emit_deadlock(&r);
}

static void report_all_asleep(const struct graph *g, uint64_t now) {
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  r.kind = "deadlock";
  r.what = "all-asleep";
  r.count = (uint32_t)g->alive;
  for (size_t i = 0; i < g->count && r.nthreads < TW_REPORT_MAX_THREADS; i++)
    if (g->n[i].wf.stuck) fill_thread(&r.threads[r.nthreads++], g, &g->n[i], now);
  size_t off = g->alive == 1
                   ? (size_t)snprintf(r.message, sizeof(r.message),
                                      "the only thread is asleep: it is blocked in a wait that no "
                                      "thread of the process can end:")
                   : (size_t)snprintf(r.message, sizeof(r.message),
                                      "all %zu threads are asleep: each is blocked in a wait that "
                                      "no thread of the process can end:", g->alive);
  for (uint32_t k = 0; k < r.nthreads && k < 3 && off < sizeof(r.message); k++) {
    char phrase[320];
    wait_phrase(phrase, sizeof(phrase), &r.threads[k]);
    off += (size_t)snprintf(r.message + off, sizeof(r.message) - off, "%s T%llu in %s",
                            k ? ";" : "", (unsigned long long)r.threads[k].id, phrase);
  }
  if (r.nthreads > 3 && off < sizeof(r.message))
    snprintf(r.message + off, sizeof(r.message) - off, "; ...");
  emit_deadlock(&r);
}

/* Reports the deadlocks of the (confirmed) stuck set. */
static void report_deadlocks(struct graph *g, uint64_t now) {
  bool any = false;
  for (size_t i = 0; i < g->count; i++) {
    struct node *nd = &g->n[i];
    if (nd->wf.stuck && nd->self_relock) {
      if (!dead_reported(nd)) report_self_relock(g, nd, now);
      mark_dead(nd);
      any = true;
    }
  }
  /* Cycles: walk the definite waits from each stuck node; color 1 = on the current walk. */
  uint8_t *color = calloc(g->count ? g->count : 1, 1);
  uint32_t *path = malloc(sizeof(uint32_t) * (g->count ? g->count : 1));
  for (size_t i = 0; color && path && i < g->count; i++) {
    if (!g->n[i].wf.stuck || color[i]) continue;
    size_t len = 0;
    int32_t cur = (int32_t)i;
    while (cur >= 0 && g->n[cur].wf.stuck && !color[cur]) {
      color[cur] = 1;
      path[len++] = (uint32_t)cur;
      cur = tw_waitfor_next(g->n, sizeof(*g->n), &g->n[cur].wf);
    }
    if (cur >= 0 && color[cur] == 1) { /* closed a cycle on this walk: from cur to the end */
      size_t start = 0;
      while (path[start] != (uint32_t)cur) start++;
      size_t clen = len - start;
      bool fresh = false;
      for (size_t k = start; k < len; k++) fresh |= !dead_reported(&g->n[path[k]]);
      if (clen >= 2 && fresh) report_cycle(g, path + start, clen, now);
      if (clen >= 2) any = true;
    }
    for (size_t k = 0; k < len; k++) color[path[k]] = 2;
  }
  free(color);
  free(path);
  size_t nstuck = 0;
  bool fresh = false;
  for (size_t i = 0; i < g->count; i++) {
    nstuck += g->n[i].wf.stuck;
    fresh |= g->n[i].wf.stuck && !dead_reported(&g->n[i]);
  }
  if (!any && fresh && nstuck == g->alive && !g->untracked) {
    report_all_asleep(g, now);
    any = true;
  }
  /* Whatever else is stuck waits on a deadlock just reported (or on an exited owner, which the stall
   * report explains): it is not reported again as a deadlock. */
  if (any)
    for (size_t i = 0; i < g->count; i++)
      if (g->n[i].wf.stuck) mark_dead(&g->n[i]);
}

/* --- stalls --------------------------------------------------------------------------------- */

static const char *stall_what(const struct tw_wait_snap *w) {
  switch (tw_call_class(w->call)) {
    case TW_WC_MUTEX: return "mutex";
    case TW_WC_RWLOCK: return "rwlock";
    case TW_WC_COND: return "condvar";
    case TW_WC_JOIN: return "join";
    case TW_WC_FD: return (tw_fd_get(w->fd) & TW_FD_KIND_MASK) == TW_FD_EVENTFD ? "eventfd" : "pipe";
    case TW_WC_SEM: return "semaphore";
    case TW_WC_BARRIER: return "barrier";
    case TW_WC_SPIN: return "spinlock";
    case TW_WC_SOCK: return "socket";
    case TW_WC_POLL: return "poll";
    case TW_WC_FUTEX: return "futex";
    default: return "wait";
  }
}

/* Why a wait that lasts (condvar, fd, socket, poll set, semaphore, futex) looks idle rather than
 * stuck: the threads that could end it (its known writers, posters or wakers, `feed` says which;
 * for a condvar, or an object nobody fed yet, any other thread) are running or sleeping: a worker
 * waiting for work. A stall is a warning either way; this sentence says which it looks like. */
static void idle_or_stuck(struct tw_report *r, const struct graph *g, const struct node *nd,
                          size_t off, const char *feed) {
  uint64_t ids[4];
  size_t n = 0;
  bool writers = nd->wf.rule == TW_WF_ALL && nd->wf.nend > 0;
  for (size_t i = 0; i < g->count; i++) {
    const struct node *o = &g->n[i];
    /* A sleeping thread wakes by itself: it can end the wait as well as a running one. */
    bool awake = o->s.wait.call == TW_CALL_NONE || tw_call_class(o->s.wait.call) == TW_WC_SLEEP;
    if (o == nd || o->s.life == TW_LIFE_EXITED || !awake) continue;
    bool ender = !writers;
    for (uint32_t k = 0; writers && k < nd->wf.nend; k++) ender |= nd->wf.end[k] == i;
    if (ender && n < TW_ARRAY_LEN(ids)) ids[n++] = o->s.id;
    else if (ender) n++;
  }
  if (off >= sizeof(r->message)) return;
  if (n == 0) {
    snprintf(r->message + off, sizeof(r->message) - off,
             "; it looks stuck: every thread that could end the wait is blocked");
    return;
  }
  char who[96] = "";
  size_t w = 0;
  for (size_t i = 0; i < n && i < TW_ARRAY_LEN(ids) && w < sizeof(who); i++)
    w += (size_t)snprintf(who + w, sizeof(who) - w, "%sT%llu", i ? ", " : "",
                          (unsigned long long)ids[i]);
  snprintf(r->message + off, sizeof(r->message) - off,
           "; it looks idle (waiting for work), not stuck: %s that could %s it %s not blocked (%s%s)",
           n == 1 ? "a thread" : "threads", writers ? feed : "end", n == 1 ? "is" : "are",
           who, n > TW_ARRAY_LEN(ids) ? ", ..." : "");
}

static void report_stall(const struct graph *g, const uint32_t *idx, size_t k, uint64_t now) {
  static struct tw_report r;
  memset(&r, 0, sizeof(r));
  const struct node *first = &g->n[idx[0]];
  const struct tw_wait_snap *w = &first->s.wait;
  r.kind = "stall";
  r.what = stall_what(w);
  r.threshold_ns = tw__opt.stall_ns;
  for (size_t j = 0; j < k && r.nthreads < TW_REPORT_MAX_THREADS; j++)
    fill_thread(&r.threads[r.nthreads++], g, &g->n[idx[j]], now);
  uint32_t stalled = (uint32_t)k;
  /* Listed stalled threads leave room for the holders. */
  if (first->wf.nend && r.nthreads > TW_REPORT_MAX_THREADS - 2) r.nthreads = TW_REPORT_MAX_THREADS - 2;
  const struct tw_report_thread *t0 = &r.threads[0];
  char phrase[320], d[32], who[48];
  wait_phrase(phrase, sizeof(phrase), t0);
  snprintf(d, sizeof(d), "%.2fs", (double)t0->wait_ns / 1e9);
  if (k == 1) snprintf(who, sizeof(who), "T%llu has", (unsigned long long)t0->id);
  else snprintf(who, sizeof(who), "%zu threads (T%llu, ...) have", k, (unsigned long long)t0->id);
  size_t off = (size_t)snprintf(r.message, sizeof(r.message), "%s been blocked for %s in %s", who,
                                d, phrase);
  /* Lock stalls: the holder, and where it is now; join stalls: the thread joined. (A pipe's past
   * writers are not listed: nothing says they are the ones that should write now.) */
  enum tw_wait_class wc = tw_call_class(w->call);
  const char *role = wc == TW_WC_JOIN ? "the joined thread" : "the holder";
  uint32_t holders = 0;
  for (uint32_t e = 0; e < first->wf.nend && r.nthreads < TW_REPORT_MAX_THREADS; e++) {
    const struct node *h = &g->n[first->wf.end[e]];
    if (h == first || (wc != TW_WC_MUTEX && wc != TW_WC_RWLOCK && wc != TW_WC_JOIN &&
                       wc != TW_WC_SPIN))
      continue;
    struct tw_report_thread *ht = &r.threads[r.nthreads++];
    fill_thread(ht, g, h, now);
    holders++;
    if (tw_tstate_waits(ht->state)) {
      char hp[320];
      wait_phrase(hp, sizeof(hp), ht);
      off += (size_t)snprintf(r.message + off, sizeof(r.message) - off,
                              "; %s T%llu is itself %s in %s", role, (unsigned long long)h->s.id,
                              tw_state_name(ht->state), hp);
    } else {
      tw_report_thread_locate(ht);
      off += (size_t)snprintf(r.message + off, sizeof(r.message) - off, "; %s T%llu is %s", role,
                              (unsigned long long)h->s.id, ht->note[0] ? ht->note : "running");
    }
    if (off >= sizeof(r.message)) off = sizeof(r.message) - 1;
  }
  if (first->wf.rule == TW_WF_ALWAYS && off < sizeof(r.message))
    off += (size_t)snprintf(r.message + off, sizeof(r.message) - off,
                            "; it is held by thread %d, which has exited without unlocking it",
                            first->owner_tid);
  if (off >= sizeof(r.message)) off = sizeof(r.message) - 1;
  /* Condvar stalls: a signal that found nobody waiting before this wait began is a lost wakeup. */
  if (add_lost_wakeup(&r, w, off)) r.what = "lost-wakeup";
  else if (wc == TW_WC_COND || wc == TW_WC_FD || wc == TW_WC_SOCK || wc == TW_WC_POLL)
    idle_or_stuck(&r, g, first, off, "write to");
  else if (wc == TW_WC_SEM) idle_or_stuck(&r, g, first, off, "post");
  else if (wc == TW_WC_FUTEX) idle_or_stuck(&r, g, first, off, "wake");
  r.count = stalled; /* the holders are listed as context, not counted */
  r.ncontext = holders;
  r.same_stacks = false;
  r.dropped = tw_registry_dropped();
  tw_report_emit(&r);
}

struct stall_key {
  uint32_t call, stack;
  uintptr_t obj;
  int32_t fd;
};

static bool same_stall(const struct node *a, const struct node *b) {
  return a->s.wait.call == b->s.wait.call && a->s.wait.stack == b->s.wait.stack &&
         a->s.wait.site_pc == b->s.wait.site_pc && a->s.wait.obj == b->s.wait.obj &&
         a->s.wait.fd == b->s.wait.fd;
}

/* The state letter and CPU time so far of thread `tid` (/proc/self/task/TID/stat and schedstat).
 * False when it cannot be read (gone). */
static bool task_progress(int32_t tid, char *state, uint64_t *cpu_ns) {
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
  FILE *f = fopen(path, "re");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the state follows the command name, which may hold ')' */
  if (!p || p[1] != ' ') return false;
  *state = p[2];
  snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
  unsigned long long cpu = 0;
  if ((f = fopen(path, "re"))) {
    if (fscanf(f, "%llu", &cpu) != 1) cpu = 0;
    fclose(f);
  }
  *cpu_ns = cpu;
  return true;
}

/* Once per scan, for every join wait: did its target make progress since the last scan (it is
 * running or runnable, or used more than 1 ms of CPU)? Two small /proc reads per joiner. */
static void track_join_progress(struct graph *g, uint64_t now) {
  for (size_t i = 0; i < g->count; i++) {
    struct node *nd = &g->n[i];
    if (tw_call_class(nd->s.wait.call) != TW_WC_JOIN) continue;
    int32_t t = index_of_handle(g, nd->s.wait.obj);
    struct seen *e = seen_of(nd->s.id);
    if (!e) continue;
    char st = 0;
    uint64_t cpu = 0;
    bool got = t >= 0 && g->n[t].s.tid > 0 && task_progress(g->n[t].s.tid, &st, &cpu);
    if (!e->join_tracked || e->join_episode != nd->s.wait.episode) {
      e->join_tracked = true;
      e->join_episode = nd->s.wait.episode;
      e->progress_ns = got && st == 'R' ? now : nd->s.wait.since_ns;
      e->target_cpu_ns = cpu;
      continue;
    }
    if (got && (st == 'R' || cpu - e->target_cpu_ns > 1000 * 1000)) e->progress_ns = now;
    e->target_cpu_ns = cpu;
  }
}

static void report_stalls(struct graph *g, uint64_t now) {
  uint64_t limit = tw__opt.stall_ns;
  if (limit == 0) return;
  uint32_t *due = malloc(sizeof(uint32_t) * (g->count ? g->count : 1));
  if (!due) return;
  size_t ndue = 0;
  for (size_t i = 0; i < g->count; i++) {
    const struct node *nd = &g->n[i];
    const struct tw_wait_snap *w = &nd->s.wait;
    if (w->call == TW_CALL_NONE || now < w->since_ns || now - w->since_ns < limit) continue;
    if (nd->outside || tw_call_sleeps(w->call)) continue; /* waits for the world, or sleeps */
    if (dead_reported(nd)) continue; /* a deadlock report explains it */
    struct seen *e = seen_of(nd->s.id);
    if (!e || (e->stalled && e->stall_episode == w->episode)) continue;
    /* A join is stuck only as long as its target makes no progress. */
    if (tw_call_class(w->call) == TW_WC_JOIN && e->join_tracked && e->join_episode == w->episode &&
        now - e->progress_ns < limit)
      continue;
    /* Not asleep in its call right now (preempted around it, or it left it by siglongjmp): looked
     * at again next tick. */
    if (asleep_in_call(&nd->s) == P_NOT) continue;
    e->stalled = true;
    e->stall_episode = w->episode;
    due[ndue++] = (uint32_t)i;
  }
  /* Threads stalled at the same place on the same object in this scan make one report. */
  uint32_t *group = malloc(sizeof(uint32_t) * (ndue ? ndue : 1));
  for (size_t i = 0; group && i < ndue; i++) {
    if (due[i] == UINT32_MAX) continue;
    size_t k = 0;
    group[k++] = due[i];
    for (size_t j = i + 1; j < ndue; j++)
      if (due[j] != UINT32_MAX && same_stall(&g->n[due[i]], &g->n[due[j]])) {
        group[k++] = due[j];
        due[j] = UINT32_MAX;
      }
    report_stall(g, group, k, now);
  }
  free(group);
  free(due);
}

/* --- the scan ------------------------------------------------------------------------------- */

static struct graph g1, g2;

/* Stuck threads not yet confirmed in their current wait episode. */
static bool needs_confirm(const struct graph *g) {
  for (size_t i = 0; i < g->count; i++) {
    const struct node *nd = &g->n[i];
    if (!nd->wf.stuck) continue;
    struct seen *e = NULL;
    HASH_FIND(hh, seen_tab, &nd->s.id, sizeof(uint64_t), e);
    if (!e || !e->checked || e->checked_episode != nd->s.wait.episode) return true;
  }
  return false;
}

static void mark_checked(const struct graph *g) {
  for (size_t i = 0; i < g->count; i++) {
    struct seen *e = g->n[i].wf.stuck ? seen_of(g->n[i].s.id) : NULL;
    if (!e) continue;
    e->checked = true;
    e->checked_episode = g->n[i].s.wait.episode;
  }
}

static void forget_gone_threads(const struct graph *g) {
  struct seen *e, *tmp;
  HASH_ITER(hh, seen_tab, e, tmp) e->alive = false;
  for (size_t i = 0; i < g->count; i++) {
    HASH_FIND(hh, seen_tab, &g->n[i].s.id, sizeof(uint64_t), e);
    if (e) e->alive = true;
  }
  HASH_ITER(hh, seen_tab, e, tmp) {
    if (e->alive) continue;
    HASH_DEL(seen_tab, e);
    free(e);
  }
}

static bool any_blocked(const struct graph *g) {
  for (size_t i = 0; i < g->count; i++)
    if (g->n[i].s.wait.call != TW_CALL_NONE) return true;
  return false;
}

/* Whether some wait's rule depends on every other thread (then threads we do not know matter). */
static bool any_others_rule(const struct graph *g) {
  for (size_t i = 0; i < g->count; i++)
    if (g->n[i].wf.rule == TW_WF_OTHERS) return true;
  return false;
}

static bool analyse(struct graph *g, const bool *keep) {
  if (!graph_load(g)) return false;
  build_rules(g);
  g->untracked = any_others_rule(g) && has_untracked_threads(g->alive);
  tw_waitfor_solve(g->n, g->count, sizeof(*g->n), g->alive, g->untracked, keep);
  return true;
}

/* cond-mutex-mismatch: two threads blocked on one condvar, each with its own mutex. */
static const struct graph *sort_graph;
static int by_cond(const void *a, const void *b) {
  const struct tw_wait_snap *x = &sort_graph->n[*(const uint32_t *)a].s.wait;
  const struct tw_wait_snap *y = &sort_graph->n[*(const uint32_t *)b].s.wait;
  if (x->obj != y->obj) return x->obj < y->obj ? -1 : 1;
  return x->obj2 < y->obj2 ? -1 : x->obj2 > y->obj2;
}

static void check_cond_mutexes(const struct graph *g) {
  uint32_t *idx = malloc(sizeof(*idx) * (g->count ? g->count : 1));
  if (!idx) return;
  size_t k = 0;
  for (size_t i = 0; i < g->count; i++)
    if (tw_call_class(g->n[i].s.wait.call) == TW_WC_COND) idx[k++] = (uint32_t)i;
  sort_graph = g;
  qsort(idx, k, sizeof(*idx), by_cond);
  for (size_t i = 0; i + 1 < k; i++) {
    const struct tw_thread_snap *a = &g->n[idx[i]].s, *b = &g->n[idx[i + 1]].s;
    if (a->wait.obj == b->wait.obj && a->wait.obj2 != b->wait.obj2) tw_misuse_cond_mismatch(a, b);
  }
  free(idx);
}

/* A deadlock needs a proof, not a race lost on a loaded machine: every member must be seen by the
 * kernel asleep in its very call on its very object (asleep_in_call), and still be in the wait
 * episode of the snapshot afterwards (the proofs are read after it: a member that moved on may be
 * asleep in a later call). A member without the proof may act, so it is treated as running: taken
 * out of the candidates, and the rest solved again, until the stuck set is stable. */
static void prove_stuck(struct graph *g, bool *keep) {
  for (bool again = true; again;) {
    again = false;
    for (size_t i = 0; i < g->count; i++) {
      if (!g->n[i].wf.stuck || asleep_in_call(&g->n[i].s) != P_NOT) continue;
      keep[i] = false;
      again = true;
    }
    for (size_t i = 0; i < g->count && !again; i++) {
      struct tw_thread_snap now_s;
      if (!g->n[i].wf.stuck) continue;
      if (tw_registry_snap_by_id(g->n[i].s.id, &now_s) &&
          now_s.wait.episode == g->n[i].s.wait.episode)
        continue;
      keep[i] = false;
      again = true;
    }
    if (again) tw_waitfor_solve(g->n, g->count, sizeof(*g->n), g->alive, g->untracked, keep);
  }
}

static void scan_once(uint64_t now_ns) {
  if (!analyse(&g1, NULL)) return;
  if (!any_blocked(&g1)) {
    forget_gone_threads(&g1);
    return;
  }
  check_cond_mutexes(&g1);
  if (!needs_confirm(&g1)) { /* nothing new is stuck: only stalls can be due */
    track_join_progress(&g1, now_ns);
    report_stalls(&g1, now_ns);
    forget_gone_threads(&g1);
    return;
  }
  /* A second look: only threads still in the same wait episodes, still stuck, are deadlocked. */
  struct timespec pause = {0, (long)TW_DEADLOCK_CONFIRM_NS};
  nanosleep(&pause, NULL);
  if (!graph_load(&g2)) return;
  bool *keep = calloc(g2.count ? g2.count : 1, sizeof(bool));
  if (!keep) return;
  for (size_t i = 0; i < g2.count; i++) {
    int32_t j = index_of_id(&g1, g2.n[i].s.id);
    keep[i] = j >= 0 && g1.n[j].wf.stuck && g1.n[j].s.wait.episode == g2.n[i].s.wait.episode;
  }
  build_rules(&g2);
  g2.untracked = any_others_rule(&g2) && has_untracked_threads(g2.alive);
  tw_waitfor_solve(g2.n, g2.count, sizeof(*g2.n), g2.alive, g2.untracked, keep);
  prove_stuck(&g2, keep);
  free(keep);
  now_ns = tw__now_ns();
  report_deadlocks(&g2, now_ns);
  mark_checked(&g2);
  track_join_progress(&g2, now_ns);
  report_stalls(&g2, now_ns);
  forget_gone_threads(&g2);
}

/* --- the dump's view (report/dump.h) --- */

static struct graph g_dump;

static void dump_add(struct tw_dump_deadlocks *out, const char *what, const struct graph *g,
                     const uint32_t *idx, size_t n) {
  if (out->n >= TW_ARRAY_LEN(out->d)) return;
  struct tw_dump_deadlock *d = &out->d[out->n++];
  d->what = what;
  for (size_t k = 0; k < n && d->nthreads < TW_ARRAY_LEN(d->ids); k++)
    d->ids[d->nthreads++] = g->n[idx[k]].s.id;
}

void tw_waits_find_deadlocks(struct tw_dump_deadlocks *out, uint64_t now) {
  memset(out, 0, sizeof(*out));
  struct graph *g = &g_dump;
  if (!graph_load(g)) return;
  bool *keep = calloc(g->count ? g->count : 1, sizeof(bool));
  uint8_t *color = calloc(g->count ? g->count : 1, 1);
  uint32_t *path = malloc(sizeof(uint32_t) * (g->count ? g->count : 1));
  if (!keep || !color || !path) goto out;
  for (size_t i = 0; i < g->count; i++) {
    const struct tw_wait_snap *w = &g->n[i].s.wait;
    keep[i] = w->call != TW_CALL_NONE && now >= w->since_ns &&
              now - w->since_ns >= TW_DEADLOCK_CONFIRM_NS;
  }
  build_rules(g);
  g->untracked = any_others_rule(g) && has_untracked_threads(g->alive);
  size_t nstuck = tw_waitfor_solve(g->n, g->count, sizeof(*g->n), g->alive, g->untracked, keep);
  bool any = false;
  for (size_t i = 0; i < g->count; i++) {
    if (!g->n[i].wf.stuck || !g->n[i].self_relock) continue;
    uint32_t one = (uint32_t)i;
    dump_add(out, "self-relock", g, &one, 1);
    color[i] = 2;
    any = true;
  }
  /* Cycles of definite waits, walked as report_deadlocks does. */
  for (size_t i = 0; i < g->count; i++) {
    if (!g->n[i].wf.stuck || color[i]) continue;
    size_t len = 0;
    int32_t cur = (int32_t)i;
    while (cur >= 0 && g->n[cur].wf.stuck && !color[cur]) {
      color[cur] = 1;
      path[len++] = (uint32_t)cur;
      cur = tw_waitfor_next(g->n, sizeof(*g->n), &g->n[cur].wf);
    }
    if (cur >= 0 && color[cur] == 1) {
      size_t start = 0;
      while (path[start] != (uint32_t)cur) start++;
      if (len - start >= 2) {
        dump_add(out, "wait-cycle", g, path + start, len - start);
        any = true;
      }
    }
    for (size_t k = 0; k < len; k++) color[path[k]] = 2;
  }
  if (!any && nstuck && nstuck == g->alive && !g->untracked) {
    size_t k = 0;
    for (size_t i = 0; i < g->count; i++)
      if (g->n[i].wf.stuck) path[k++] = (uint32_t)i;
    dump_add(out, "all-asleep", g, path, k);
  }
out:
  free(keep);
  free(color);
  free(path);
}

void tw_waits_after_fork_child(bool consistent) {
  if (!consistent) { /* the reporter may have been changing them: abandoned, not walked */
    seen_tab = NULL;
    nowaiters = NULL;
    nnowaiters = 0;
    g1 = (struct graph){0};
    g2 = (struct graph){0};
    g_dump = (struct graph){0};
    return;
  }
  struct seen *e, *tmp;
  HASH_ITER(hh, seen_tab, e, tmp) {
    HASH_DEL(seen_tab, e);
    free(e);
  }
  struct nowaiter *w, *wtmp;
  HASH_ITER(hh, nowaiters, w, wtmp) {
    HASH_DEL(nowaiters, w);
    free(w);
  }
  nnowaiters = 0;
}

void tw_waits_scan(uint64_t now_ns) {
  scan_once(now_ns);
  tw_add_acq_rel(&tw__scans_done, 1);
  syscall(SYS_futex, &tw__scans_done, (long)FUTEX_WAKE_PRIVATE, (long)INT32_MAX, NULL, NULL, 0L);
}

void tw_waits_tick(uint64_t now_ns, bool final) {
  if (!final) tw_waits_scan(now_ns);
}
