/* What each thread of an attached process waits for, read from outside, and the verdict.
 *
 * Each thread stopped in a system call is named by the call and its arguments, the memory around
 * the object (read while every thread was stopped) and the names of the C library's frames on its
 * stack. A futex word is recognised by glibc's x86-64 layouts (glibc 2.34-2.39):
 *   pthread_mutex_t   __lock at 0 (the word), __owner (holder tid) at 8, __kind at 16
 *   pthread_cond_t    __g_signals[0..1] at 40/44 (the word), __wrefs at 36 (bit 0: shared); the
 *                     wait's cleanup buffer on the stack names the condvar and its mutex
 *   pthread_join      the joined thread's tid word in its struct pthread (near its fs base)
 *   pthread_rwlock_t  the word at 0, 8 or 12; __cur_writer (holder tid) at 24, __shared at 28
 *   sem_t             value (the word) at 0, waiters at 4, private at 8
 *   pthread_barrier_t current_round (the word) at 4, count at 8, shared at 12
 * and fds through /proc/PID/fd and fdinfo. Each wait then gets the rule the library's detector
 * (src/detect/waits.c) gives it, and the same solver (src/detect/waitfor.c) finds the threads that
 * can never run again: a wait-cycle, a self-relock, or every thread asleep. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "report/symbolize.h"

/* glibc's marks of process-shared objects (nptl/pthreadP.h, pthread_cond_common.c). */
#define MUTEX_PSHARED_BIT 128
#define MUTEX_PI_BIT 32
#define FUTEX_TID_MASK 0x3fffffff
/* How long the look at other processes' fds (who else holds a pipe) may take. */
#define OTHERS_SCAN_MS 500

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int32_t word32(const struct at_thread *t, int off) {
  int32_t v = 0;
  if (off >= -AT_AROUND && off + 4 <= AT_AROUND) memcpy(&v, t->around + AT_AROUND + off, 4);
  return v;
}

static uint64_t word64(const struct at_thread *t, int off) {
  uint64_t v = 0;
  if (off >= -AT_AROUND && off + 8 <= AT_AROUND) memcpy(&v, t->around + AT_AROUND + off, 8);
  return v;
}

static const char *base(const char *path) {
  const char *b = path ? strrchr(path, '/') : NULL;
  return b ? b + 1 : path ? path : "??";
}

bool at_is_libc(const char *module) {
  const char *b = base(module);
  return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "libc-", 5) == 0 ||
         strncmp(b, "libpthread", 10) == 0 || strncmp(b, "ld-linux", 8) == 0;
}

/* --- the stack: where the C library ends, and what its frames are called ----------------------- */

/* Fills t->first_app and `names` with the C library frames' function names, " "-separated. */
static void libc_frames(struct at_thread *t, char *names, size_t n) {
  size_t off = 0;
  names[0] = '\0';
  t->first_app = t->npcs;
  for (int i = 0; i < t->npcs; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(t->pcs[i], f, TW_MAX_INLINE);
    if (!at_is_libc(f[nf - 1].module)) {
      t->first_app = i;
      return;
    }
    for (int j = 0; j < nf && off < n; j++)
      off += (size_t)snprintf(names + off, n - off, " %s", f[j].function ? f[j].function : "??");
  }
}

static bool system_frame(const struct tw_frame *f) {
  return at_is_libc(f->module) || !f->function || strcmp(f->function, "??") == 0 ||
         strncmp(f->function, "std::", 5) == 0 || strncmp(f->function, "__gthread", 9) == 0;
}

void at_where(const struct at_thread *t, char *buf, size_t n) {
  if (t->npcs == 0) {
    snprintf(buf, n, "an unknown place");
    return;
  }
  struct tw_frame chain[TW_MAX_INLINE], first = {.function = "??", .module = "??"};
  bool found = false;
  for (int i = 0; i < t->npcs && !found; i++) {
    int nc = tw_symbolize(t->pcs[i], chain, TW_MAX_INLINE);
    if (i == 0) first = chain[0];
    for (int j = 0; j < nc && !found; j++)
      if (!system_frame(&chain[j])) {
        first = chain[j];
        found = true;
      }
  }
  if (first.file) snprintf(buf, n, "%s (%s:%d)", first.function, base(first.file), first.line);
  else snprintf(buf, n, "%s (%s)", first.function, base(first.module));
}

/* " (lock_a)" when a global variable holds addr, else "". C++ names are demangled when the
 * demangler is loaded (attach.c loads libstdc++ for a C++ target). */
static void symbol_of(uintptr_t addr, char *buf, size_t n) {
  char sym[96];
  buf[0] = '\0';
  if (!tw_symbolize_data(addr, sym, sizeof(sym))) return;
  char *(*demangle)(const char *, char *, size_t *, int *) =
      (char *(*)(const char *, char *, size_t *, int *))(uintptr_t)dlsym(RTLD_DEFAULT,
                                                                         "__cxa_demangle");
  char *plus = strchr(sym, '+');
  if (plus) *plus = '\0';
  int status = -1;
  char *d = sym[0] == '_' && sym[1] == 'Z' && demangle ? demangle(sym, NULL, NULL, &status) : NULL;
  if (plus) *plus = '+';
  snprintf(buf, n, " (%s%s)", d && status == 0 ? d : sym, d && status == 0 && plus ? plus : "");
  free(d);
}

/* --- other processes: do they hold this pipe or eventfd too? ------------------------------------ */

struct held_elsewhere {
  bool scanned, complete;
  size_t n, cap;
  struct {
    bool eventfd;
    unsigned long long key; /* pipe inode or eventfd id */
    int pid;
  } *e;
};
static struct held_elsewhere elsewhere;

static void note_elsewhere(bool eventfd, unsigned long long key, int pid) {
  if (elsewhere.n == elsewhere.cap) {
    size_t cap = elsewhere.cap ? 2 * elsewhere.cap : 256;
    void *m = realloc(elsewhere.e, cap * sizeof(*elsewhere.e));
    if (!m) return;
    elsewhere.e = m;
    elsewhere.cap = cap;
  }
  elsewhere.e[elsewhere.n].eventfd = eventfd;
  elsewhere.e[elsewhere.n].key = key;
  elsewhere.e[elsewhere.n++].pid = pid;
}

/* Every pipe and eventfd of every other process we may look at, once, within OTHERS_SCAN_MS. */
static void scan_elsewhere(pid_t self) {
  if (elsewhere.scanned) return;
  elsewhere.scanned = true;
  uint64_t deadline = now_ns() + OTHERS_SCAN_MS * 1000000ull;
  DIR *proc = opendir("/proc");
  if (!proc) return;
  bool complete = true;
  for (struct dirent *p; (p = readdir(proc));) {
    if (p->d_name[0] < '0' || p->d_name[0] > '9') continue;
    int pid = atoi(p->d_name);
    if (pid == self || pid == getpid()) continue;
    if (now_ns() > deadline) {
      complete = false;
      break;
    }
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
    DIR *d = opendir(dir);
    if (!d) continue; /* another user's (not root) or gone */
    for (struct dirent *e; (e = readdir(d));) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      char path[128], link[64];
      snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
      ssize_t len = readlink(path, link, sizeof(link) - 1);
      if (len <= 0) continue;
      link[len] = '\0';
      unsigned long inode;
      if (sscanf(link, "pipe:[%lu]", &inode) == 1) note_elsewhere(false, inode, pid);
      else if (strcmp(link, "anon_inode:[eventfd]") == 0) {
        char info[512];
        snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t r = read(fd, info, sizeof(info) - 1);
        close(fd);
        if (r <= 0) continue;
        info[r] = '\0';
        const char *id = strstr(info, "eventfd-id:");
        note_elsewhere(true, id ? strtoull(id + 11, NULL, 10) : 0, pid);
      }
    }
    closedir(d);
  }
  closedir(proc);
  elsewhere.complete = complete;
}

/* The pid of another process holding the pipe or eventfd, 0 none, -1 unknown (scan cut). */
static int pid_elsewhere(pid_t self, bool eventfd, unsigned long long key) {
  scan_elsewhere(self);
  for (size_t i = 0; i < elsewhere.n; i++)
    if (elsewhere.e[i].eventfd == eventfd && (elsewhere.e[i].key == key || (eventfd && !key)))
      return elsewhere.e[i].pid;
  return elsewhere.complete ? 0 : -1;
}

/* --- fds ---------------------------------------------------------------------------------------- */

enum fd_kind { FD_OTHER, FD_PIPE, FD_EVENTFD, FD_SOCKET, FD_EPOLL };

static enum fd_kind kind_of(const struct at_fd *f) {
  if (!f) return FD_OTHER;
  if (strncmp(f->link, "pipe:", 5) == 0) return FD_PIPE;
  if (f->eventfd_id >= 0) return FD_EVENTFD;
  if (strncmp(f->link, "socket:", 7) == 0) return FD_SOCKET;
  if (strstr(f->link, "[eventpoll]")) return FD_EPOLL;
  return FD_OTHER;
}

static const char *kind_name(enum fd_kind k) {
  static const char *names[] = {"fd", "pipe", "eventfd", "socket", "epoll"};
  return names[k];
}

/* A socket's description from /proc/PID/net/unix (type, path) or tcp: "unix stream", "tcp". */
static void describe_socket(pid_t pid, struct at_fd *f) {
  if (f->sock[0] || !f->inode) return;
  char path[64], line[512];
  snprintf(path, sizeof(path), "/proc/%d/net/unix", pid);
  FILE *u = fopen(path, "re");
  while (u && fgets(line, sizeof(line), u)) {
    unsigned type = 0, st = 0;
    unsigned long inode = 0;
    char name[256] = "";
    if (sscanf(line, "%*s %*s %*s %*s %x %x %lu %255s", &type, &st, &inode, name) < 3) continue;
    if (inode != f->inode) continue;
    snprintf(f->sock, sizeof(f->sock), "unix %s%s%s%s", type == 1 ? "stream" : type == 2 ? "dgram"
                                                                          : "seqpacket",
             st == 1 ? " listening" : "", name[0] ? " " : "", name);
    break;
  }
  if (u) fclose(u);
  static const char *inet[] = {"tcp", "tcp6", "udp", "udp6"};
  for (size_t k = 0; k < 4 && !f->sock[0]; k++) {
    snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, inet[k]);
    FILE *n = fopen(path, "re");
    while (n && fgets(line, sizeof(line), n)) {
      unsigned long inode = 0;
      unsigned st = 0, lport = 0;
      if (sscanf(line, "%*s %*[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*s %*s %lu", &lport, &st,
                 &inode) != 3 || inode != f->inode)
        continue;
      snprintf(f->sock, sizeof(f->sock), "%s port %u%s", inet[k], lport,
               k < 2 && st == 10 ? " listening" : "");
      break;
    }
    if (n) fclose(n);
  }
  if (!f->sock[0]) snprintf(f->sock, sizeof(f->sock), "socket");
}

/* Other fds of the process that can end a wait on pipe or eventfd `f`: the write ends of a pipe
 * for a reader, the read ends for a writer; any fd of the same eventfd. Listed into buf. */
static int other_ends(const struct at_snapshot *s, const struct at_fd *f, bool reading, char *buf,
                      size_t n) {
  int count = 0;
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < s->nfds; i++) {
    const struct at_fd *o = &s->fds[i];
    bool same = kind_of(f) == FD_PIPE ? o->inode == f->inode && kind_of(o) == FD_PIPE
                                      : kind_of(o) == FD_EVENTFD && o->eventfd_id == f->eventfd_id;
    if (!same) continue;
    if (kind_of(f) == FD_PIPE && ((o->flags & 3) == 0) == reading) continue; /* same end */
    if (off < n) off += (size_t)snprintf(buf + off, n - off, "%s%d", count ? ", " : "", o->fd);
    count++;
  }
  return count;
}

/* Whether a wait on fd can only be ended by a thread of this process (then its rule is "stuck if
 * every other thread is"); says why in note. */
static bool fd_in_process_only(struct at_snapshot *s, const struct at_fd *f, bool reading,
                               char *note, size_t n) {
  enum fd_kind k = kind_of(f);
  if (k != FD_PIPE && k != FD_EVENTFD) return false;
  char ends[96];
  int nends = other_ends(s, f, reading, ends, sizeof(ends));
  const char *end = k == FD_EVENTFD ? "fd" : reading ? "write end" : "read end";
  if (nends == 0) {
    snprintf(note, n, "no fd of this process is its %s (another process holds it)", end);
    return false;
  }
  int other = pid_elsewhere(s->pid, k == FD_EVENTFD,
                            k == FD_PIPE ? f->inode : (unsigned long long)f->eventfd_id);
  if (other != 0) {
    if (other > 0)
      snprintf(note, n, "its %s is fd %s here, and process %d holds it too", end, ends, other);
    else snprintf(note, n, "its %s is fd %s here (other processes not checked in time)", end, ends);
    return false;
  }
  if (s->handlers) {
    snprintf(note, n, "its %s is fd %s here (the process catches signals: a handler may write it)",
             end, ends);
    return false;
  }
  snprintf(note, n, "its %s is fd %s, held by no other process", end, ends);
  return true;
}

static void describe_fd(struct at_snapshot *s, int fd, char *buf, size_t n) {
  const struct at_fd *cf = at_fd_of(s, fd);
  struct at_fd *f = (struct at_fd *)cf;
  enum fd_kind k = kind_of(f);
  if (!f) snprintf(buf, n, "fd %d (closed)", fd);
  else if (k == FD_SOCKET) {
    describe_socket(s->live, f);
    snprintf(buf, n, "socket fd %d (%s)", fd, f->sock);
  } else if (k == FD_OTHER) snprintf(buf, n, "fd %d (%s)", fd, f->link);
  else snprintf(buf, n, "%s fd %d", kind_name(k), fd);
}

/* A wait on several fds (poll, select, epoll): stuck only if each of them is a pipe or eventfd
 * that only this process can feed. */
static void multi_fd_wait(struct at_snapshot *s, struct at_thread *t, struct at_node *nd,
                          const int *fds, int nfd, const char *what) {
  size_t off = (size_t)snprintf(t->object, sizeof(t->object), "%s", what);
  bool all_here = nfd > 0;
  for (int k = 0; k < nfd; k++) {
    char d[96], note[200];
    describe_fd(s, fds[k], d, sizeof(d));
    if (off < sizeof(t->object))
      off += (size_t)snprintf(t->object + off, sizeof(t->object) - off, "%s%s", k ? ", " : "", d);
    all_here &= fd_in_process_only(s, at_fd_of(s, fds[k]), true, note, sizeof(note));
  }
  if (off < sizeof(t->object)) snprintf(t->object + off, sizeof(t->object) - off, ")");
  if (nfd == 0) snprintf(t->object, sizeof(t->object), "%s)", what);
  if (all_here) nd->wf.rule = TW_WF_OTHERS;
}

/* --- futex waits -------------------------------------------------------------------------------- */

static bool has(const char *names, const char *what) { return strstr(names, what) != NULL; }

/* The thread whose struct pthread holds the tid word at addr (a join waits there), or -1. */
static int join_target(const struct at_snapshot *s, const struct at_thread *t, uintptr_t addr,
                       int expected_tid) {
  for (size_t j = 0; j < s->n; j++) {
    const struct at_thread *o = &s->t[j];
    if (o == t || !o->have_regs) continue;
    uintptr_t fs = o->regs.fs_base;
    if (addr >= fs && addr < fs + 4096 && o->tid == expected_tid) return (int)j;
  }
  for (size_t j = 0; j < s->n; j++) /* a thread we could not stop: its tid alone */
    if (&s->t[j] != t && s->t[j].tid == expected_tid) return (int)j;
  return -1;
}

static void lock_owner(struct at_snapshot *s, size_t i, int owner, bool shared) {
  struct at_thread *t = &s->t[i];
  struct at_node *nd = &s->nodes[i];
  t->holder_tid = owner;
  if (owner == 0) return; /* changing hands, or held by readers */
  if (owner == t->tid) {
    t->self_relock = true;
    nd->wf.rule = TW_WF_SOME;
    tw_wf_add_ender(&nd->wf, (int32_t)i);
    t->target = (int)i;
    return;
  }
  int h = at_index_of_tid(s, owner);
  if (h >= 0) {
    nd->wf.rule = TW_WF_SOME;
    tw_wf_add_ender(&nd->wf, h);
    t->target = h;
  } else if (!shared) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d", s->pid, owner);
    if (access(path, F_OK) != 0) {
      nd->wf.rule = TW_WF_ALWAYS; /* its holder exited without unlocking it */
      snprintf(t->note, sizeof(t->note), "held by thread %d, which has exited", owner);
    }
  }
}

static void futex_wait(struct at_snapshot *s, size_t i, const char *names) {
  struct at_thread *t = &s->t[i];
  struct at_node *nd = &s->nodes[i];
  uintptr_t w = t->arg[0];
  int op = (int)(t->arg[1] & 0x7f), val = (int)t->arg[2];
  bool pi = op == 6 /* FUTEX_LOCK_PI */ || op == 13 /* FUTEX_LOCK_PI2 */;
  bool wait = op == 0 /* FUTEX_WAIT */ || op == 9 /* FUTEX_WAIT_BITSET */ || pi ||
              op == 11 /* FUTEX_WAIT_REQUEUE_PI */;
  t->timed = t->arg[3] != 0 && wait;
  /* FUTEX_PRIVATE_FLAG: only this process can wake the word (a process-shared semaphore or
   * barrier waits without it; their own private/shared fields hold glibc's inverted LLL_* values). */
  bool private_futex = (t->arg[1] & 128) != 0;
  char sym[112], msym[112];
  if (!wait) {
    t->wait = AT_W_FUTEX;
    t->call = "futex";
    snprintf(t->object, sizeof(t->object), "futex 0x%lx (operation %d)", (unsigned long)w, op);
    return;
  }
  int j = join_target(s, t, w, val);
  if (j >= 0 || has(names, "join")) {
    t->wait = AT_W_JOIN;
    t->call = t->timed ? (has(names, "clock") ? "pthread_clockjoin_np" : "pthread_timedjoin_np")
                       : "pthread_join";
    t->addr = w;
    if (j >= 0) {
      snprintf(t->object, sizeof(t->object), "thread T%llu", (unsigned long long)s->t[j].id);
      t->target = j;
      if (!t->timed) {
        nd->wf.rule = TW_WF_SOME;
        tw_wf_add_ender(&nd->wf, j);
      }
    } else {
      snprintf(t->object, sizeof(t->object), "thread (tid %d, exiting)", val);
    }
    return;
  }
  if (t->cond_base || has(names, "cond_wait") || has(names, "cond_timedwait") ||
      has(names, "cond_clockwait")) {
    uintptr_t c = t->cond_base;
    if (!c) c = (word32(t, -4) >> 3) >= 1 ? w - 40 : w - 44; /* __wrefs counts waiters */
    int wrefs = word32(t, (int)(c + 36 - w));
    t->wait = AT_W_COND;
    t->call = t->timed ? (has(names, "clockwait") ? "pthread_cond_clockwait"
                                                  : "pthread_cond_timedwait")
                       : "pthread_cond_wait";
    t->addr = c;
    symbol_of(c, sym, sizeof(sym));
    if (t->cond_mutex) {
      symbol_of(t->cond_mutex, msym, sizeof(msym));
      snprintf(t->object, sizeof(t->object), "condvar 0x%lx%s (mutex 0x%lx%s)", (unsigned long)c,
               sym, (unsigned long)t->cond_mutex, msym);
    } else {
      snprintf(t->object, sizeof(t->object), "condvar 0x%lx%s", (unsigned long)c, sym);
    }
    if (wrefs & 1) snprintf(t->note, sizeof(t->note), "process-shared: another process may signal it");
    else if (!t->timed) nd->wf.rule = TW_WF_OTHERS;
    return;
  }
  if (has(names, "rwlock")) {
    /* Readers wait on __readers (0) or __wrphase_futex (8), writers on __writers_futex (12) or
     * __wrphase_futex: the base whose __flags and __shared make sense. */
    int offs[3] = {8, 12, 0}, off = 8;
    for (int k = 0; k < 3; k++) {
      int flags = word32(t, 48 - offs[k]), shared = word32(t, 28 - offs[k]);
      if (flags >= 0 && flags <= 2 && (shared == 0 || shared == 1)) {
        off = offs[k];
        break;
      }
    }
    uintptr_t l = w - (uintptr_t)off;
    int writer = word32(t, 24 - off), shared = word32(t, 28 - off);
    unsigned readers = (unsigned)word32(t, 0 - off) >> 3;
    bool wr = has(names, "wrlock");
    t->wait = AT_W_RWLOCK;
    t->call = wr ? (t->timed ? "pthread_rwlock_timedwrlock" : "pthread_rwlock_wrlock")
                 : (t->timed ? "pthread_rwlock_timedrdlock" : "pthread_rwlock_rdlock");
    t->addr = l;
    symbol_of(l, sym, sizeof(sym));
    snprintf(t->object, sizeof(t->object), "rwlock 0x%lx%s", (unsigned long)l, sym);
    if (t->timed) return;
    if (writer) lock_owner(s, i, writer, shared != 0);
    else if (!shared) {
      snprintf(t->note, sizeof(t->note), "held by %u reader%s", readers, readers == 1 ? "" : "s");
      nd->wf.rule = TW_WF_OTHERS; /* readers are not known by name: any other thread may be one */
    }
    return;
  }
  if (has(names, "barrier")) {
    uintptr_t b = w - 4;
    unsigned in = (unsigned)word32(t, -4), round = (unsigned)val, count = (unsigned)word32(t, 4);
    t->wait = AT_W_BARRIER;
    t->call = "pthread_barrier_wait";
    t->addr = b;
    symbol_of(b, sym, sizeof(sym));
    snprintf(t->object, sizeof(t->object), "barrier 0x%lx%s", (unsigned long)b, sym);
    if (count) snprintf(t->note, sizeof(t->note), "%u of %u threads arrived", in - round, count);
    if (private_futex && !t->timed) nd->wf.rule = TW_WF_OTHERS;
    return;
  }
  if (has(names, "sem_") && !pi) {
    uint64_t data = word64(t, 0);
    t->wait = AT_W_SEM;
    t->call = t->timed ? "sem_timedwait" : "sem_wait";
    t->addr = w;
    symbol_of(w, sym, sizeof(sym));
    snprintf(t->object, sizeof(t->object), "semaphore 0x%lx%s", (unsigned long)w, sym);
    snprintf(t->note, sizeof(t->note), "value %u, %u waiting", (unsigned)data,
             (unsigned)(data >> 32));
    if (private_futex && !t->timed) nd->wf.rule = TW_WF_OTHERS;
    return;
  }
  /* A mutex: named by the stack, or (a C library without symbols) by its layout: a lock word of 1
   * or 2 with a thread of this process as __owner. */
  int lockword = word32(t, 0), owner = word32(t, 8), kind = word32(t, 16);
  if (pi) owner = lockword & FUTEX_TID_MASK;
  bool layout = (lockword == 1 || lockword == 2 || pi) && at_index_of_tid(s, owner) >= 0;
  if (has(names, "lll_lock_wait_private") ||
      (!has(names, "mutex") && !layout && has(names, "lll_lock_wait"))) {
    /* A C library lock (stdio's _IO_lock_t has the owner's struct pthread at 8: its fs base). */
    t->wait = AT_W_LLL;
    t->call = "__lll_lock_wait_private";
    t->addr = w;
    symbol_of(w, sym, sizeof(sym));
    snprintf(t->object, sizeof(t->object), "C library lock 0x%lx%s", (unsigned long)w, sym);
    uint64_t holder = word64(t, 8);
    for (size_t k = 0; k < s->n && holder; k++)
      if (s->t[k].have_regs && s->t[k].regs.fs_base == holder && !t->timed)
        lock_owner(s, i, s->t[k].tid, false);
    return;
  }
  if (has(names, "mutex") || has(names, "lll_lock_wait") || layout) {
    t->wait = AT_W_MUTEX;
    t->call = t->timed ? (has(names, "clocklock") ? "pthread_mutex_clocklock"
                                                  : "pthread_mutex_timedlock")
                       : "pthread_mutex_lock";
    t->addr = w;
    symbol_of(w, sym, sizeof(sym));
    snprintf(t->object, sizeof(t->object), "mutex 0x%lx%s", (unsigned long)w, sym);
    (void)MUTEX_PI_BIT;
    if (!t->timed) lock_owner(s, i, owner, (kind & MUTEX_PSHARED_BIT) != 0);
    else t->holder_tid = owner;
    return;
  }
  t->wait = AT_W_FUTEX;
  t->call = "futex";
  t->addr = w;
  symbol_of(w, sym, sizeof(sym));
  snprintf(t->object, sizeof(t->object), "futex 0x%lx%s", (unsigned long)w, sym);
  snprintf(t->note, sizeof(t->note), "value %d; not a pthread object threadwatch knows", lockword);
}

/* --- every wait --------------------------------------------------------------------------------- */

static const char *syscall_name(long nr) {
  static const struct {
    long nr;
    const char *name;
  } names[] = {{SYS_read, "read"}, {SYS_write, "write"}, {SYS_readv, "readv"},
               {SYS_writev, "writev"}, {SYS_recvfrom, "recv"}, {SYS_recvmsg, "recvmsg"},
               {SYS_sendto, "send"}, {SYS_sendmsg, "sendmsg"}, {SYS_accept, "accept"},
               {SYS_accept4, "accept4"}, {SYS_poll, "poll"}, {SYS_ppoll, "ppoll"},
               {SYS_select, "select"}, {SYS_pselect6, "pselect"}, {SYS_epoll_wait, "epoll_wait"},
               {SYS_epoll_pwait, "epoll_pwait"}, {SYS_epoll_pwait2, "epoll_pwait2"},
               {SYS_nanosleep, "nanosleep"}, {SYS_clock_nanosleep, "clock_nanosleep"},
               {SYS_pause, "pause"}, {SYS_rt_sigsuspend, "sigsuspend"},
               {SYS_rt_sigtimedwait, "sigtimedwait"}, {SYS_wait4, "waitpid"},
               {SYS_waitid, "waitid"}, {SYS_futex, "futex"}, {SYS_connect, "connect"},
               {SYS_restart_syscall, "restart_syscall"}, {SYS_pread64, "pread"},
               {SYS_io_getevents, "io_getevents"}, {SYS_msgrcv, "msgrcv"},
               {SYS_semop, "semop"}, {SYS_flock, "flock"}, {SYS_fcntl, "fcntl"}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (names[i].nr == nr) return names[i].name;
  return NULL;
}

static void classify(struct at_snapshot *s, size_t i) {
  struct at_thread *t = &s->t[i];
  struct at_node *nd = &s->nodes[i];
  char names[1024];
  libc_frames(t, names, sizeof(names));
  long nr = t->sc;
  if (nr < 0) return;
  const char *name = syscall_name(nr);
  t->call = name;
  switch (nr) {
    case SYS_futex:
      if (t->around_ok || !t->stopped) futex_wait(s, i, names);
      return;
    case SYS_read: case SYS_readv: case SYS_recvfrom: case SYS_recvmsg: case SYS_accept:
    case SYS_accept4: case SYS_write: case SYS_writev: case SYS_sendto: case SYS_sendmsg:
    case SYS_pread64: case SYS_connect: {
      bool reading = nr != SYS_write && nr != SYS_writev && nr != SYS_sendto && nr != SYS_sendmsg &&
                     nr != SYS_connect;
      t->wait = AT_W_FD;
      t->fd = (int)t->arg[0];
      describe_fd(s, t->fd, t->object, sizeof(t->object));
      if (fd_in_process_only(s, at_fd_of(s, t->fd), reading, t->note, sizeof(t->note)))
        nd->wf.rule = TW_WF_OTHERS;
      return;
    }
    case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6: {
      t->wait = AT_W_POLL;
      bool timed = nr == SYS_poll ? (int)t->arg[2] >= 0 : t->arg[nr == SYS_ppoll ? 2 : 4] != 0;
      t->timed = timed;
      multi_fd_wait(s, t, nd, t->pollfd, t->npollfd, "fds (");
      if (timed) nd->wf.rule = TW_WF_NEVER;
      return;
    }
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2: {
      t->wait = AT_W_POLL;
      int ep = (int)t->arg[0];
      t->fd = ep;
      t->timed = nr == SYS_epoll_pwait2 ? t->arg[3] != 0 : (int)t->arg[3] >= 0;
      const struct at_fd *f = at_fd_of(s, ep);
      char what[48];
      snprintf(what, sizeof(what), "epoll fd %d (watching ", ep);
      multi_fd_wait(s, t, nd, f ? f->tfd : NULL, f ? f->ntfd : 0, what);
      if (f && f->ntfd == 0) snprintf(t->object, sizeof(t->object), "epoll fd %d (watching no fd)", ep);
      if (t->timed) nd->wf.rule = TW_WF_NEVER;
      return;
    }
    case SYS_nanosleep: case SYS_clock_nanosleep: {
      t->wait = AT_W_SLEEP;
      t->timed = true;
      struct timespec ts;
      memcpy(&ts, t->around, sizeof(ts));
      bool abs = nr == SYS_clock_nanosleep && (t->arg[1] & 1);
      if (t->around_ok && !abs)
        snprintf(t->object, sizeof(t->object), "a sleep of %.2fs",
                 (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
      else snprintf(t->object, sizeof(t->object), "a sleep");
      return;
    }
    case SYS_restart_syscall: {
      /* Only timed waits (sleeps, timed futex waits, poll with a timeout) are resumed this way,
       * after an earlier stop (a debugger, an earlier attach): the C library function the program
       * called is the outermost C library frame. */
      t->wait = AT_W_SLEEP;
      t->timed = true;
      const char *last = strrchr(names, ' ');
      const char *fn = last ? last + 1 : "";
      while (*fn == '_') fn++;
      if (strncmp(fn, "GI_", 3) == 0) fn += 3;
      while (*fn == '_') fn++;
      if (strncmp(fn, "libc_", 5) == 0) fn += 5;
      if (*fn && strcmp(fn, "??") != 0) {
        snprintf(t->callbuf, sizeof(t->callbuf), "%s", fn);
        t->call = t->callbuf;
      }
      snprintf(t->object, sizeof(t->object), "a timed wait (resumed after an earlier stop)");
      return;
    }
    case SYS_pause: case SYS_rt_sigsuspend: case SYS_rt_sigtimedwait:
      t->wait = AT_W_SIGNAL;
      snprintf(t->object, sizeof(t->object), "a signal");
      if (nr != SYS_rt_sigtimedwait && !s->handlers) {
        /* No handler: a signal either is ignored or ends the process; this call never returns. */
        snprintf(t->note, sizeof(t->note), "the process catches no signal: it never returns");
        nd->wf.rule = TW_WF_ALWAYS;
      }
      return;
    case SYS_wait4: case SYS_waitid:
      t->wait = AT_W_CHILD;
      snprintf(t->object, sizeof(t->object), "a child process");
      return;
    default: return;
  }
}

static void running_note(struct at_thread *t) {
  char where[200];
  at_where(t, where, sizeof(where));
  if (t->sc < 0 && !t->stopped)
    snprintf(t->note, sizeof(t->note), "not stopped in time (state %c)", t->pstate ? t->pstate : '?');
  else if (t->sc < 0) snprintf(t->note, sizeof(t->note), "on a CPU at %s", where);
  else if (syscall_name(t->sc))
    snprintf(t->note, sizeof(t->note), "in system call %s at %s", syscall_name(t->sc), where);
  else snprintf(t->note, sizeof(t->note), "in system call %ld at %s", t->sc, where);
}

void at_wait_phrase(const struct at_snapshot *s, const struct at_thread *t, char *buf, size_t n) {
  char where[200], held[48] = "";
  at_where(t, where, sizeof(where));
  if (t->target >= 0 && (t->wait == AT_W_MUTEX || t->wait == AT_W_RWLOCK || t->wait == AT_W_LLL))
    snprintf(held, sizeof(held), " (held by T%llu)", (unsigned long long)s->t[t->target].id);
  snprintf(buf, n, "%s() on %s%s at %s", t->call, t->object, held, where);
}

void at_held(const struct at_snapshot *s, size_t i, char *buf, size_t n) {
  size_t off = 0;
  buf[0] = '\0';
  for (size_t j = 0; j < s->n && off < n; j++) {
    const struct at_thread *o = &s->t[j];
    if (o->target != (int)i || (o->wait != AT_W_MUTEX && o->wait != AT_W_RWLOCK &&
                                o->wait != AT_W_LLL))
      continue;
    bool dup = false; /* one lock waited on by many: listed once */
    for (size_t k = 0; k < j && !dup; k++)
      dup = s->t[k].target == (int)i && s->t[k].addr == o->addr && s->t[k].wait == o->wait;
    if (dup) continue;
    off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? ", " : "", o->object);
  }
}

/* --- the verdict -------------------------------------------------------------------------------- */

static struct at_report *new_report(struct at_snapshot *s, const char *what) {
  if (s->nreports == AT_MAX_REPORTS) return NULL;
  struct at_report *r = &s->reports[s->nreports++];
  memset(r, 0, sizeof(*r));
  r->what = what;
  return r;
}

/* The message's list of threads and their waits, as the library's deadlock reports write it. */
static void message_waits(const struct at_snapshot *s, struct at_report *r, size_t off,
                          size_t max) {
  for (size_t k = 0; k < r->n && k < max && off < sizeof(r->message); k++) {
    char phrase[400];
    at_wait_phrase(s, &s->t[r->idx[k]], phrase, sizeof(phrase));
    off += (size_t)snprintf(r->message + off, sizeof(r->message) - off, "%s T%llu in %s",
                            k ? ";" : "", (unsigned long long)s->t[r->idx[k]].id, phrase);
  }
  if (r->n > max && off < sizeof(r->message))
    snprintf(r->message + off, sizeof(r->message) - off, "; ...");
}

static void verdict(struct at_snapshot *s) {
  bool any = false;
  for (size_t i = 0; i < s->n; i++) {
    if (!s->nodes[i].wf.stuck || !s->t[i].self_relock) continue;
    struct at_report *r = new_report(s, "self-relock");
    any = true;
    if (!r) break;
    r->count = 1;
    r->idx[r->n++] = (int)i;
    char phrase[400];
    at_wait_phrase(s, &s->t[i], phrase, sizeof(phrase));
    snprintf(r->message, sizeof(r->message),
             "T%llu is blocked forever locking a %s it already holds: %s",
             (unsigned long long)s->t[i].id, s->t[i].wait == AT_W_RWLOCK ? "rwlock" : "mutex",
             phrase);
  }
  /* Cycles: walk the definite waits from each stuck thread; color 1 = on the current walk. */
  uint8_t *color = calloc(s->n ? s->n : 1, 1);
  uint32_t *path = malloc(sizeof(uint32_t) * (s->n ? s->n : 1));
  for (size_t i = 0; color && path && i < s->n; i++) {
    if (!s->nodes[i].wf.stuck || color[i]) continue;
    size_t len = 0;
    int32_t cur = (int32_t)i;
    while (cur >= 0 && s->nodes[cur].wf.stuck && !color[cur]) {
      color[cur] = 1;
      path[len++] = (uint32_t)cur;
      cur = tw_waitfor_next(s->nodes, sizeof(*s->nodes), &s->nodes[cur].wf);
    }
    if (cur >= 0 && color[cur] == 1) {
      size_t start = 0;
      while (path[start] != (uint32_t)cur) start++;
      size_t clen = len - start;
      struct at_report *r = clen >= 2 ? new_report(s, "wait-cycle") : NULL;
      if (clen >= 2) any = true;
      if (r) {
        r->count = clen;
        for (size_t k = start; k < len && r->n < AT_REPORT_THREADS; k++) r->idx[r->n++] = (int)path[k];
        size_t off = 0;
        char names[128] = "";
        for (size_t k = 0; k < r->n && k < 6; k++)
          off += (size_t)snprintf(names + off, sizeof(names) - off, "%sT%llu",
                                  k == 0 ? "" : k + 1 == r->n ? " and " : ", ",
                                  (unsigned long long)s->t[r->idx[k]].id);
        off = (size_t)snprintf(r->message, sizeof(r->message),
                               "%s are blocked forever, each waiting for the next:", names);
        message_waits(s, r, off, AT_REPORT_THREADS);
      }
    }
    for (size_t k = 0; k < len; k++) color[path[k]] = 2;
  }
  free(color);
  free(path);
  if (!any && s->nstuck == s->n && s->n > 0) {
    struct at_report *r = new_report(s, "all-asleep");
    r->count = s->n;
    for (size_t i = 0; i < s->n && r->n < AT_REPORT_THREADS; i++) r->idx[r->n++] = (int)i;
    size_t off = s->n == 1
                     ? (size_t)snprintf(r->message, sizeof(r->message),
                                        "the only thread is asleep: it is blocked in a wait that "
                                        "no thread of the process can end:")
                     : (size_t)snprintf(r->message, sizeof(r->message),
                                        "all %zu threads are asleep: each is blocked in a wait "
                                        "that no thread of the process can end:", s->n);
    message_waits(s, r, off, 3);
  }
}

void at_classify(struct at_snapshot *s) {
  s->nodes = calloc(s->n ? s->n : 1, sizeof(*s->nodes));
  if (!s->nodes) return;
  for (size_t i = 0; i < s->n; i++) classify(s, i);
  for (size_t i = 0; i < s->n; i++) {
    struct at_thread *t = &s->t[i];
    /* A timed wait ends by itself; a thread that did not stop was not read consistently. */
    if (t->timed || !t->stopped) s->nodes[i].wf.rule = TW_WF_NEVER;
    if (t->wait == AT_W_NONE) running_note(t);
    else if (!t->call) t->call = "futex";
  }
}

size_t at_solve(struct at_snapshot *s, const bool *keep) {
  if (!s->nodes) return 0;
  s->nstuck = tw_waitfor_solve(s->nodes, s->n, sizeof(*s->nodes), s->n, false, keep);
  return s->nstuck;
}

void at_verdict(struct at_snapshot *s) {
  if (s->nodes) verdict(s);
}
