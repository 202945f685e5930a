/* `threadwatch attach PID`: stops every thread of a process that is not under the preload for a
 * moment (PTRACE_SEIZE + PTRACE_INTERRUPT, never a SIGSTOP), reads what the analysis needs while
 * they are stopped (registers, the system call each is in, its stack, the memory around the object
 * it waits on, the fd table), lets them go, then reads their waits (attach_wait.c) and prints the
 * dump and the verdict (attach_print.c), or writes them as a thread profile (attach_profile.c:
 * --pprof, --folded). docs/attach.md describes the output and the limits.
 *
 * Read-only: nothing is written to the process (no PTRACE_POKE*, no register set, no code run in
 * it). If this tool dies at any moment, the kernel detaches it and every stopped thread runs on. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <libunwind-ptrace.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "base/demangle.h"
#include "report/profile.h"
#include "report/symbolize.h"

/* How long the threads get to stop. A thread in an uninterruptible sleep (D: disk, NFS) stops
 * only when the sleep ends; past this it is shown with what /proc says, without a stack. */
#define AT_STOP_MS 1500
/* Threads read at most (a process growing without end while we look must not keep us). */
#define AT_MAX_THREADS 100000
/* fds of the process read at most. */
#define AT_MAX_FDS 4096
/* Rounds of "list the tasks, seize the new ones": threads created while we seize. */
#define AT_SEIZE_ROUNDS 8

/* Kernel-internal restart codes a system call interrupted by our stop returns with. */
#define AT_ERESTARTSYS 512
#define AT_ERESTARTNOINTR 513
#define AT_ERESTARTNOHAND 514
#define AT_ERESTART_RESTARTBLOCK 516

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("threadwatch: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
  return 1;
}

/* Reads a small /proc file into buf (NUL-terminated). Returns its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t have = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, n - 1 - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += (size_t)r;
    if (have == n - 1) break;
  }
  close(fd);
  buf[have] = '\0';
  return (ssize_t)have;
}

/* --- the target's memory: process_vm_readv through a small page cache --------------------------
 * The stacks are read while every thread is stopped, so a page read once stays true until the
 * detach, and one system call serves the many words an unwind reads from one page. */

#define PAGE 4096u
#define CACHE_PAGES 256u
struct page {
  uintptr_t addr; /* page address + 1 when valid (0: empty) */
  uint8_t data[PAGE];
};
static struct page *cache;
static pid_t cache_pid;

int at_read(pid_t pid, uintptr_t addr, void *out, size_t n) {
  struct iovec local = {out, n}, remote = {(void *)addr, n};
  ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (r == (ssize_t)n) return 0;
  if (r >= 0) return -EFAULT;
  if (errno != EPERM && errno != ENOSYS) return -errno;
  /* process_vm_readv refused (seccomp, an old kernel): word by word through ptrace (stopped
   * threads only). */
  for (size_t off = 0; off < n; off += sizeof(long)) {
    errno = 0;
    long w = ptrace(PTRACE_PEEKDATA, pid, (void *)(addr + off), NULL);
    if (errno) return -errno;
    memcpy((char *)out + off, &w, n - off < sizeof(long) ? n - off : sizeof(long));
  }
  return 0;
}

static int cached_read(uintptr_t addr, void *out, size_t n) {
  if (!cache) return at_read(cache_pid, addr, out, n);
  while (n > 0) {
    uintptr_t pa = addr & ~(uintptr_t)(PAGE - 1);
    struct page *p = &cache[(pa / PAGE) % CACHE_PAGES];
    if (p->addr != pa + 1) {
      if (at_read(cache_pid, pa, p->data, PAGE) != 0) {
        p->addr = 0;
        return at_read(cache_pid, addr, out, n); /* a page we may only partly read */
      }
      p->addr = pa + 1;
    }
    size_t off = addr - pa, k = PAGE - off < n ? PAGE - off : n;
    memcpy(out, p->data + off, k);
    out = (char *)out + k;
    addr += k;
    n -= k;
  }
  return 0;
}

/* --- unwinding a stopped thread with libunwind's remote interface ------------------------------
 * The unwind tables come from libunwind-ptrace (_UPT_find_proc_info: the ELF files of the
 * process's mappings), one handle for the whole process; registers come from the thread's
 * PTRACE_GETREGS copy and memory from the page cache, so nothing is asked of a thread twice.
 * With the global cache, threads with the same stacks cost one table lookup between them. */

static void *upt; /* _UPT_create() of a live thread of the target */

struct unwind_arg {
  const struct user_regs_struct *regs;
};

static int acc_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need,
                              void *arg) {
  (void)arg;
  return _UPT_find_proc_info(as, ip, pi, need, upt);
}

static void acc_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg) {
  (void)arg;
  _UPT_put_unwind_info(as, pi, upt);
}

static int acc_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg) {
  (void)as, (void)addr, (void)arg;
  return -UNW_ENOINFO; /* JIT-registered unwind info is not looked for */
}

/* `arg` is ours or libunwind-ptrace's: memory is the same for every thread, so it is not used. */
static int acc_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
                          void *arg) {
  (void)as, (void)arg;
  if (write) return -UNW_EINVAL; /* read-only, always */
  return cached_read(addr, val, sizeof(*val)) == 0 ? 0 : -UNW_EINVAL;
}

static int acc_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
                          void *arg) {
  (void)as;
  const struct user_regs_struct *r = ((const struct unwind_arg *)arg)->regs;
  if (write) return -UNW_EINVAL;
  switch (reg) {
    case UNW_X86_64_RAX: *val = r->rax; break;
    case UNW_X86_64_RDX: *val = r->rdx; break;
    case UNW_X86_64_RCX: *val = r->rcx; break;
    case UNW_X86_64_RBX: *val = r->rbx; break;
    case UNW_X86_64_RSI: *val = r->rsi; break;
    case UNW_X86_64_RDI: *val = r->rdi; break;
    case UNW_X86_64_RBP: *val = r->rbp; break;
    case UNW_X86_64_RSP: *val = r->rsp; break;
    case UNW_X86_64_R8: *val = r->r8; break;
    case UNW_X86_64_R9: *val = r->r9; break;
    case UNW_X86_64_R10: *val = r->r10; break;
    case UNW_X86_64_R11: *val = r->r11; break;
    case UNW_X86_64_R12: *val = r->r12; break;
    case UNW_X86_64_R13: *val = r->r13; break;
    case UNW_X86_64_R14: *val = r->r14; break;
    case UNW_X86_64_R15: *val = r->r15; break;
    case UNW_X86_64_RIP: *val = r->rip; break;
    default: return -UNW_EBADREG;
  }
  return 0;
}

static int acc_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
                            void *arg) {
  (void)as, (void)reg, (void)val, (void)write, (void)arg;
  return -UNW_EBADREG;
}

static int acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg) {
  (void)as, (void)c, (void)arg;
  return -UNW_EINVAL; /* never: we only read */
}

static int acc_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len,
                             unw_word_t *off, void *arg) {
  (void)as, (void)addr, (void)buf, (void)len, (void)off, (void)arg;
  return -UNW_ENOINFO; /* names come from libdw */
}

static unw_accessors_t accessors = {
    .find_proc_info = acc_find_proc_info,
    .put_unwind_info = acc_put_unwind_info,
    .get_dyn_info_list_addr = acc_get_dyn_info_list_addr,
    .access_mem = acc_access_mem,
    .access_reg = acc_access_reg,
    .access_fpreg = acc_access_fpreg,
    .resume = acc_resume,
    .get_proc_name = acc_get_proc_name,
};
static unw_addr_space_t addr_space;

static void unwind(struct at_thread *t) {
  struct unwind_arg arg = {&t->regs};
  unw_cursor_t c;
  t->npcs = 0;
  if (unw_init_remote(&c, addr_space, &arg) < 0) {
    t->pcs[t->npcs++] = t->regs.rip;
    return;
  }
  do {
    unw_word_t ip = 0;
    if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0) break;
    t->pcs[t->npcs++] = ip;
  } while (t->npcs < AT_MAX_FRAMES && unw_step(&c) > 0);
}

/* --- the process's threads -------------------------------------------------------------------- */

static int by_tid(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* The tids of the process, sorted. NULL (and *n = 0) when it has none left. */
static int *list_tids(pid_t pid, size_t *n) {
  char dir[64];
  snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
  DIR *d = opendir(dir);
  *n = 0;
  if (!d) return NULL;
  size_t cap = 64;
  int *tids = malloc(sizeof(int) * cap);
  for (struct dirent *e; tids && (e = readdir(d)) && *n < AT_MAX_THREADS;) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (*n == cap) {
      int *m = realloc(tids, sizeof(int) * (cap *= 2));
      if (!m) break;
      tids = m;
    }
    tids[(*n)++] = atoi(e->d_name);
  }
  closedir(d);
  if (tids) qsort(tids, *n, sizeof(int), by_tid);
  return tids;
}

/* se.exec_start of a /proc/.../sched file, in ms: when the task last ran, or -1. */
static double sched_exec_start_ms(const char *path) {
  char buf[4096];
  if (read_small(path, buf, sizeof(buf)) <= 0) return -1;
  const char *p = strstr(buf, "se.exec_start");
  if (!p || !(p = strchr(p, ':'))) return -1;
  return strtod(p + 1, NULL);
}

/* The difference between CLOCK_MONOTONIC and the scheduler's task clock of `cpu` (which se.exec_start
 * counts in: it leaves out interrupt and steal time, so each CPU's runs apart from the others' and
 * from the wall), measured from this thread right after it was scheduled in on that CPU. */
static bool cpu_offset(int cpu, double *offset_ms) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (cpu < 0 || cpu >= CPU_SETSIZE || sched_setaffinity(0, sizeof(set), &set) != 0) return false;
  struct timespec tiny = {0, 1000};
  nanosleep(&tiny, NULL); /* to be scheduled in right now: exec_start is then "now" */
  double self = sched_exec_start_ms("/proc/thread-self/sched");
  double now = (double)now_ns() / 1e6;
  if (self < 0 || sched_getcpu() != cpu) return false;
  *offset_ms = now - self;
  return true;
}

/* How long each blocked thread has not run: its exec_start against its CPU's clock. */
static void idle_times(struct at_snapshot *s) {
  cpu_set_t saved;
  if (sched_getaffinity(0, sizeof(saved), &saved) != 0) return;
  double off[CPU_SETSIZE];
  signed char have[CPU_SETSIZE] = {0}; /* 0 not measured, 1 measured, -1 cannot be */
  for (size_t i = 0; i < s->n; i++) {
    struct at_thread *t = &s->t[i];
    if (t->exec_start_ms <= 0 || t->cpu < 0 || t->cpu >= CPU_SETSIZE) continue;
    if (have[t->cpu] == 0) have[t->cpu] = cpu_offset(t->cpu, &off[t->cpu]) ? 1 : -1;
    if (have[t->cpu] < 0) continue;
    double idle = t->read_at_ms - off[t->cpu] - t->exec_start_ms;
    t->idle_ns = idle > 0 && t->pstate != 'R' ? (uint64_t)(idle * 1e6) : 0;
    t->idle_known = true;
  }
  sched_setaffinity(0, sizeof(saved), &saved);
}

/* Name, state, CPU and last run of a thread, read before it is stopped (stopping it runs it). */
static void read_thread_facts(pid_t pid, struct at_thread *t, const char *procname) {
  char path[96], buf[1024];
  t->cpu = -1;
  snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, t->tid);
  if (read_small(path, buf, sizeof(buf)) > 0) {
    buf[strcspn(buf, "\n")] = '\0';
    if (strcmp(buf, procname) != 0) snprintf(t->name, sizeof(t->name), "%s", buf);
  }
  snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, t->tid);
  if (read_small(path, buf, sizeof(buf)) > 0) {
    const char *rp = strrchr(buf, ')');
    if (rp && rp[1] == ' ') {
      t->pstate = rp[2];
      const char *p = rp + 2; /* field 3; the processor is field 39 */
      for (int field = 3; field < 39 && p; field++) p = strchr(p + 1, ' ');
      if (p) t->cpu = atoi(p + 1);
    }
  }
  snprintf(path, sizeof(path), "/proc/%d/task/%d/sched", pid, t->tid);
  t->exec_start_ms = sched_exec_start_ms(path);
  t->read_at_ms = (double)now_ns() / 1e6;
}

/* /proc/TID/syscall: "NR ARG0 .. ARG5 SP PC" of a blocked thread, "-1 SP PC" in user space,
 * "running" on a CPU. For threads that did not stop in time. */
static void read_proc_syscall(pid_t pid, struct at_thread *t) {
  char path[96], buf[256];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, t->tid);
  t->sc = -1;
  if (read_small(path, buf, sizeof(buf)) <= 0 || buf[0] < '0' || buf[0] > '9') return;
  char *p = buf;
  t->sc = strtol(p, &p, 10);
  for (int i = 0; i < 6; i++) t->arg[i] = strtoull(p, &p, 16);
}

/* --- why ptrace was refused ------------------------------------------------------------------- */

static int refused(pid_t pid, int err) {
  char path[64], buf[4096];
  if (err == ESRCH) return fail("no process %d", pid);
  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  long tracer = 0;
  if (read_small(path, buf, sizeof(buf)) > 0) {
    const char *p = strstr(buf, "TracerPid:");
    if (p) tracer = strtol(p + 10, NULL, 10);
  }
  if (tracer > 0) {
    char comm[64] = "?";
    snprintf(path, sizeof(path), "/proc/%ld/comm", tracer);
    if (read_small(path, comm, sizeof(comm)) > 0) comm[strcspn(comm, "\n")] = '\0';
    return fail("cannot attach to process %d: it is already traced by process %ld (%s); detach "
                "that debugger or tracer first (a process has one tracer at a time)", pid, tracer,
                comm);
  }
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%d", pid);
  if (stat(path, &st) == 0 && st.st_uid != geteuid() && geteuid() != 0)
    return fail("cannot attach to process %d: it belongs to uid %u and you are uid %u; run "
                "threadwatch attach as that user (sudo -u '#%u' threadwatch attach %d) or as root",
                pid, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)st.st_uid, pid);
  if (read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) > 0 && buf[0] != '0') {
    int scope = atoi(buf);
    if (scope == 1)
      return fail("cannot attach to process %d: /proc/sys/kernel/yama/ptrace_scope is 1 (only a "
                  "parent may trace its children); run as root, or give threadwatch "
                  "CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep), or allow it for all with sysctl "
                  "kernel.yama.ptrace_scope=0", pid);
    if (scope == 2)
      return fail("cannot attach to process %d: /proc/sys/kernel/yama/ptrace_scope is 2 (only "
                  "processes with CAP_SYS_PTRACE may trace); run threadwatch attach as root", pid);
    return fail("cannot attach to process %d: /proc/sys/kernel/yama/ptrace_scope is %d (ptrace is "
                "off until the next reboot)", pid, scope);
  }
  if (err == EPERM)
    return fail("cannot attach to process %d: ptrace was refused (%s); the process may be "
                "set-uid or not dumpable (run as root), or a container or seccomp profile forbids "
                "ptrace (it needs CAP_SYS_PTRACE)", pid, strerror(err));
  return fail("cannot attach to process %d: %s", pid, strerror(err));
}

/* --- stop, read, let go ------------------------------------------------------------------------ */

static volatile sig_atomic_t alarm_rang;
static void on_alarm(int sig) {
  (void)sig;
  alarm_rang = 1;
}

static int index_of_tid_raw(const struct at_thread *t, size_t n, int tid) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (t[mid].tid == tid) return (int)mid;
    if (t[mid].tid < tid) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

int at_index_of_tid(const struct at_snapshot *s, int tid) {
  return tid > 0 ? index_of_tid_raw(s->t, s->n, tid) : -1;
}

const struct at_fd *at_fd_of(const struct at_snapshot *s, int fd) {
  for (size_t i = 0; i < s->nfds; i++)
    if (s->fds[i].fd == fd) return &s->fds[i];
  return NULL;
}

/* Seizes every thread (threads born meanwhile too) and asks each to stop. Returns 0, or 1 after
 * saying why not. Threads that vanish meanwhile are dropped. */
static int seize_all(struct at_snapshot *s, const char *procname) {
  size_t cap = 0;
  for (int round = 0; round < AT_SEIZE_ROUNDS; round++) {
    size_t n = 0;
    int *tids = list_tids(s->pid, &n);
    bool fresh = false;
    for (size_t i = 0; i < n; i++) {
      bool known = false;
      for (size_t k = 0; k < s->n && !known; k++) known = s->t[k].tid == tids[i];
      if (known) continue;
      if (s->n == cap) {
        cap = cap ? 2 * cap : n + 16;
        struct at_thread *m = realloc(s->t, sizeof(*m) * cap);
        if (!m) {
          free(tids);
          return fail("out of memory");
        }
        s->t = m;
      }
      struct at_thread *t = &s->t[s->n];
      memset(t, 0, sizeof(*t));
      t->tid = tids[i];
      t->sc = -1;
      t->target = -1;
      read_thread_facts(s->pid, t, procname);
      /* An exited thread (a main thread that called pthread_exit stays a zombie while the others
       * run) never stops: it is not a thread of the program any more, as in `threadwatch dump`. */
      if (t->pstate == 'Z' || t->pstate == 'X') continue;
      if (ptrace(PTRACE_SEIZE, t->tid, NULL, NULL) != 0) {
        int e = errno;
        if (e == ESRCH) continue; /* it exited meanwhile */
        free(tids);
        return refused(s->pid, e);
      }
      ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL);
      s->n++;
      fresh = true;
    }
    free(tids);
    if (!fresh) break;
  }
  /* Tids in order; `known` above is quadratic only in the round's new threads. */
  qsort(s->t, s->n, sizeof(*s->t), by_tid);
  return 0;
}

/* Waits until every seized thread has stopped, at most AT_STOP_MS. */
static void wait_stops(struct at_snapshot *s) {
  struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: waitpid returns EINTR */
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 0}, {AT_STOP_MS / 1000, (AT_STOP_MS % 1000) * 1000}};
  alarm_rang = 0;
  setitimer(ITIMER_REAL, &it, NULL);
  size_t pending = s->n;
  while (pending > 0 && !alarm_rang) {
    int st = 0;
    pid_t r = waitpid(-1, &st, __WALL);
    if (r < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: nobody left */
    }
    int i = index_of_tid_raw(s->t, s->n, r);
    if (i < 0) continue;
    struct at_thread *t = &s->t[i];
    if (WIFSTOPPED(st)) {
      if (t->stopped) continue;
      t->stopped = true;
      /* A signal-delivery-stop (a signal was on its way to it): given back at the detach. */
      if ((st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP) t->pending_sig = WSTOPSIG(st);
      pending--;
    } else if (WIFEXITED(st) || WIFSIGNALED(st)) {
      t->gone = true; /* dropped below */
      pending--;
    }
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
}

static int has_live_tid(const struct at_snapshot *s) {
  for (size_t i = 0; i < s->n; i++)
    if (s->t[i].stopped && !s->t[i].gone) return s->t[i].tid;
  return 0;
}

/* Reads a thread's registers, system call, stack and the memory its wait is about. */
static void capture_thread(struct at_snapshot *s, struct at_thread *t) {
  if (!t->stopped) {
    read_proc_syscall(s->pid, t);
    return;
  }
  if (ptrace(PTRACE_GETREGS, t->tid, NULL, &t->regs) != 0) {
    read_proc_syscall(s->pid, t);
    return;
  }
  t->have_regs = true;
  long ret = (long)t->regs.rax;
  /* In a system call when the stop came: its number stays in orig_rax, and the call returns one
   * of the restart codes (or EINTR: epoll_wait) to be restarted when it runs on. */
  if ((long)t->regs.orig_rax >= 0 &&
      (ret == -AT_ERESTARTSYS || ret == -AT_ERESTARTNOINTR || ret == -AT_ERESTARTNOHAND ||
       ret == -AT_ERESTART_RESTARTBLOCK || ret == -EINTR)) {
    t->sc = (long)t->regs.orig_rax;
    uint64_t a[6] = {t->regs.rdi, t->regs.rsi, t->regs.rdx, t->regs.r10, t->regs.r8, t->regs.r9};
    memcpy(t->arg, a, sizeof(a));
  }
  unwind(t);
  if (t->sc == SYS_futex) {
    uintptr_t w = t->arg[0];
    t->around_ok = w > AT_AROUND && cached_read(w - AT_AROUND, t->around, sizeof(t->around)) == 0;
    if (!t->around_ok && cached_read(w, t->around + AT_AROUND, AT_AROUND) == 0) {
      memset(t->around, 0, AT_AROUND); /* the object starts at the word (a page's first bytes) */
      t->around_ok = true;
    }
    /* glibc's condvar wait keeps {wseq, cond, mutex, private} (struct _condvar_cleanup_buffer,
     * nptl/pthread_cond_wait.c) on its stack: the condvar it waits on is the futex word's
     * __g_signals[0] (offset 40) or [1] (offset 44) minus that offset. */
    uint64_t stack[AT_STACK_COPY / 8];
    if ((t->arg[1] & 0x7f) == 9 /* FUTEX_WAIT_BITSET */ &&
        cached_read(t->regs.rsp & ~7ull, stack, sizeof(stack)) == 0) {
      for (size_t k = 0; k + 1 < AT_STACK_COPY / 8 && !t->cond_base; k++) {
        if (stack[k] != w - 40 && stack[k] != w - 44) continue;
        uint64_t m = stack[k + 1];
        uint8_t probe[8];
        if (m && !(m & 3) && cached_read(m, probe, sizeof(probe)) == 0) {
          t->cond_base = stack[k];
          t->cond_mutex = m;
        }
      }
    }
  } else if (t->sc == SYS_nanosleep || t->sc == SYS_clock_nanosleep) {
    uintptr_t req = t->sc == SYS_nanosleep ? t->arg[0] : t->arg[2];
    t->around_ok = cached_read(req, t->around, 16) == 0; /* the struct timespec asked for */
  } else if (t->sc == SYS_poll || t->sc == SYS_ppoll) {
    size_t nfds = t->arg[1] < AT_MAX_POLLFDS ? t->arg[1] : AT_MAX_POLLFDS;
    struct {
      int fd;
      short events, revents;
    } pfd[AT_MAX_POLLFDS];
    if (nfds && cached_read(t->arg[0], pfd, nfds * sizeof(pfd[0])) == 0)
      for (size_t k = 0; k < nfds; k++)
        if (pfd[k].fd >= 0) t->pollfd[t->npollfd++] = pfd[k].fd;
  } else if (t->sc == SYS_select || t->sc == SYS_pselect6) {
    uint64_t set[16]; /* FD_SETSIZE bits */
    int nfds = (int)t->arg[0] < 1024 ? (int)t->arg[0] : 1024;
    for (int which = 1; which <= 2; which++) {
      if (!t->arg[which] || nfds <= 0) continue;
      if (cached_read(t->arg[which], set, (size_t)(nfds + 63) / 64 * 8) != 0) continue;
      for (int fd = 0; fd < nfds && t->npollfd < AT_MAX_POLLFDS; fd++)
        if (set[fd / 64] & (1ull << (fd % 64))) t->pollfd[t->npollfd++] = fd;
    }
  }
}

/* The fd table: /proc/PID/fd links and their fdinfo. */
static void read_fds(struct at_snapshot *s) {
  char dir[64];
  snprintf(dir, sizeof(dir), "/proc/%d/task/%d/fd", s->pid, s->live);
  DIR *d = opendir(dir);
  if (!d) return;
  size_t cap = 0;
  for (struct dirent *e; (e = readdir(d)) && s->nfds < AT_MAX_FDS;) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (s->nfds == cap) {
      struct at_fd *m = realloc(s->fds, sizeof(*m) * (cap = cap ? 2 * cap : 64));
      if (!m) break;
      s->fds = m;
    }
    struct at_fd *f = &s->fds[s->nfds];
    memset(f, 0, sizeof(*f));
    f->fd = atoi(e->d_name);
    f->eventfd_id = -1;
    char path[128], buf[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    ssize_t len = readlink(path, f->link, sizeof(f->link) - 1);
    if (len < 0) continue;
    f->link[len] = '\0';
    if (sscanf(f->link, "pipe:[%lu]", &f->inode) != 1) sscanf(f->link, "socket:[%lu]", &f->inode);
    snprintf(path, sizeof(path), "/proc/%d/task/%d/fdinfo/%s", s->pid, s->live, e->d_name);
    if (read_small(path, buf, sizeof(buf)) > 0) {
      const char *p = strstr(buf, "flags:");
      if (p) f->flags = (int)strtol(p + 6, NULL, 8);
      if ((p = strstr(buf, "eventfd-count:"))) f->eventfd_count = strtoll(p + 14, NULL, 16);
      if ((p = strstr(buf, "eventfd-id:"))) f->eventfd_id = strtoll(p + 11, NULL, 10);
      else if (strstr(f->link, "[eventfd]")) f->eventfd_id = 0; /* an eventfd of an old kernel */
      for (p = buf; (p = strstr(p, "tfd:")) && f->ntfd < AT_MAX_POLLFDS; p += 4)
        f->tfd[f->ntfd++] = (int)strtol(p + 4, NULL, 10);
    }
    s->nfds++;
  }
  closedir(d);
}

static void detach_all(struct at_snapshot *s) {
  for (size_t i = 0; i < s->n; i++) {
    struct at_thread *t = &s->t[i];
    if (t->stopped && !t->gone) ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->pending_sig);
  }
  /* Threads that stopped after the deadline: let them go too (the rest go when we exit). */
  for (int st; waitpid(-1, &st, __WALL | WNOHANG) > 0;) continue;
  for (size_t i = 0; i < s->n; i++) {
    struct at_thread *t = &s->t[i];
    if (!t->stopped && !t->gone) ptrace(PTRACE_DETACH, t->tid, NULL, NULL);
  }
}

/* --- the second look ----------------------------------------------------------------------------
 * The threads are stopped one after the other, not at one instant: a thread stopped first may have
 * been about to be woken by one stopped later (a pipe ping-pong can look like two readers that
 * wait for each other). So the threads the solver finds stuck are looked at again from /proc after
 * the detach, without stopping them: each must go back into the same system call and then not run
 * at all for AT_CONFIRM_MS. A real deadlock passes whatever the delay; a live thread runs. */

#define AT_CONFIRM_MS 100
#define AT_BACK_MS 1000 /* how long a thread may take to go back into its wait */

/* "NR ARG0" of /proc/TID/syscall, or "" when it is not in a system call. */
static void syscall_head(pid_t pid, int tid, char *out, size_t n) {
  char path[96], buf[256];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
  out[0] = '\0';
  if (read_small(path, buf, sizeof(buf)) <= 0 || buf[0] < '0' || buf[0] > '9') return;
  char *sp = strchr(buf, ' ');
  if (sp) sp = strchr(sp + 1, ' ');
  if (sp) *sp = '\0';
  snprintf(out, n, "%s", buf);
}

/* How many times the thread has been scheduled in (/proc/TID/schedstat, third field). */
static long long runs_of(pid_t pid, int tid) {
  char path[96], buf[128];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
  if (read_small(path, buf, sizeof(buf)) <= 0) return -1;
  unsigned long long a, b, c;
  return sscanf(buf, "%llu %llu %llu", &a, &b, &c) == 3 ? (long long)c : -1;
}

/* keep[i]: thread i, found stuck, is confirmed stuck. */
static void confirm(struct at_snapshot *s, bool *keep) {
  char want[64], got[64];
  long long *runs = calloc(s->n ? s->n : 1, sizeof(long long));
  if (!runs) return;
  uint64_t back_deadline = now_ns() + AT_BACK_MS * 1000000ull;
  for (size_t i = 0; i < s->n; i++) {
    struct at_thread *t = &s->t[i];
    keep[i] = false;
    if (!s->nodes[i].wf.stuck) continue;
    snprintf(want, sizeof(want), "%ld 0x%llx", t->sc, (unsigned long long)t->arg[0]);
    for (;;) { /* back in its wait: the same call on the same object */
      syscall_head(s->pid, t->tid, got, sizeof(got));
      if (strcmp(got, want) == 0 || now_ns() > back_deadline) break;
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
    keep[i] = strcmp(got, want) == 0;
    runs[i] = runs_of(s->pid, t->tid);
  }
  struct timespec pause_ts = {0, AT_CONFIRM_MS * 1000000L};
  nanosleep(&pause_ts, NULL);
  for (size_t i = 0; i < s->n; i++) {
    if (!keep[i]) continue;
    struct at_thread *t = &s->t[i];
    snprintf(want, sizeof(want), "%ld 0x%llx", t->sc, (unsigned long long)t->arg[0]);
    syscall_head(s->pid, t->tid, got, sizeof(got));
    keep[i] = strcmp(got, want) == 0 && runs[i] >= 0 && runs_of(s->pid, t->tid) == runs[i];
  }
  free(runs);
}

/* --- checks before anything is stopped ------------------------------------------------------- */

/* Whether the maps of the process (or, when the main thread has left, of one of its threads) name
 * `what`. *lines counts the lines read (0: no memory, a zombie or a kernel thread). */
static bool maps_have(pid_t pid, const char *what, int *lines) {
  char path[96];
  *lines = 0;
  bool found = false;
  snprintf(path, sizeof(path), "/proc/%d/maps", pid);
  for (int pass = 0; pass < 2 && !found && *lines == 0; pass++) {
    if (pass == 1) {
      size_t n = 0;
      int *tids = list_tids(pid, &n);
      if (!tids) break;
      snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", pid, n > 1 ? tids[n - 1] : pid);
      free(tids);
    }
    FILE *f = fopen(path, "re");
    if (!f) continue;
    char *line = NULL;
    size_t cap = 0;
    while (!found && getline(&line, &cap, f) > 0) {
      (*lines)++;
      found = strstr(line, what) != NULL;
    }
    free(line);
    fclose(f);
  }
  return found;
}

/* --- the command ------------------------------------------------------------------------------ */

/* Takes the snapshot of process lpid and solves it: 0, or the exit status of an error (said). */
static int take(long lpid, bool hold, struct at_snapshot *out) {
  long tgid = tw_cli_tgid(lpid);
  if (tgid > 0 && tgid != lpid)
    return fail("%ld is a thread of process %ld, not a process: threadwatch attach %ld", lpid, tgid,
                tgid);
  pid_t pid = (pid_t)lpid;
  uint64_t t0 = now_ns();
  char path[64];
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%d", pid);
  if (stat(path, &st) != 0) return fail("no process %d", pid);
  if (pid == getpid()) return fail("threadwatch cannot attach to itself");
  int lines = 0;
  if (maps_have(pid, "libthreadwatch", &lines))
    return fail("process %d runs under libthreadwatch.so: use `threadwatch dump %d`, which asks "
                "it for its threads without stopping them (and knows how long each has waited)",
                pid, pid);
  if (lines == 0 && st.st_uid != geteuid() && geteuid() != 0) return refused(pid, EPERM);
  if (lines == 0) return fail("process %d has no memory to read (a zombie or a kernel thread)", pid);

  struct at_snapshot s = {.pid = pid};
  char procname[32] = "", buf[4096];
  snprintf(path, sizeof(path), "/proc/%d/comm", pid);
  if (read_small(path, procname, sizeof(procname)) > 0) procname[strcspn(procname, "\n")] = '\0';
  bool cxx = maps_have(pid, "libstdc++", &lines);

  cache = calloc(CACHE_PAGES, sizeof(*cache));
  cache_pid = pid;
  uint64_t stop_start = now_ns();
  if (seize_all(&s, procname) != 0) {
    for (size_t i = 0; i < s.n; i++) ptrace(PTRACE_DETACH, s.t[i].tid, NULL, NULL);
    return 1;
  }
  if (s.n == 0) return fail("no process %d", pid);
  wait_stops(&s);
  int live = has_live_tid(&s);
  s.live = live ? live : pid;
  cache_pid = s.live; /* process_vm_readv needs a live task: the main thread may have left */
  snprintf(path, sizeof(path), "/proc/%d/task/%d/exe", pid, s.live);
  ssize_t el = readlink(path, s.exe, sizeof(s.exe) - 1);
  if (el > 0) s.exe[el] = '\0';
  addr_space = unw_create_addr_space(&accessors, 0);
  if (addr_space) unw_set_caching_policy(addr_space, UNW_CACHE_GLOBAL);
  upt = live ? _UPT_create(live) : NULL;
  for (size_t i = 0; i < s.n; i++) {
    if (s.t[i].gone) continue;
    if (upt && addr_space) capture_thread(&s, &s.t[i]);
    else read_proc_syscall(pid, &s.t[i]);
  }
  read_fds(&s);
  snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, s.live);
  if (read_small(path, buf, sizeof(buf)) > 0) {
    const char *p = strstr(buf, "SigCgt:");
    /* Signals 32 and 33 are glibc's own (thread cancellation, setxid): not the program's. */
    s.handlers = p && (strtoull(p + 7, NULL, 16) & ~0x180000000ull) != 0;
  }
  if (hold) { /* tests/attach/run.sh kills us here, with every thread stopped */
    fprintf(stderr, "threadwatch: holding the %zu threads of process %d stopped (test)\n", s.n,
            pid);
    for (;;) pause();
  }
  detach_all(&s);
  s.stopped_ns = now_ns() - stop_start;
  idle_times(&s);
  if (upt) _UPT_destroy(upt);
  if (addr_space) unw_destroy_addr_space(addr_space);
  free(cache);
  cache = NULL;

  /* Threads that exited while we looked are dropped. */
  size_t k = 0;
  for (size_t i = 0; i < s.n; i++)
    if (!s.t[i].gone) s.t[k++] = s.t[i];
  s.n = k;
  for (size_t i = 0; i < s.n; i++) {
    s.nstopped += s.t[i].stopped;
    s.t[i].id = 0;
  }
  /* T1 is the main thread, then the others by tid. */
  uint64_t next = 2;
  for (size_t i = 0; i < s.n; i++) s.t[i].id = s.t[i].tid == pid ? 1 : next++;

  /* Symbols: the process's own mappings, read through a live thread (the main thread may have
   * left). C++ names are demangled with libstdc++'s demangler, loaded when the target has it. */
  if (cxx) dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
  tw_demangle_init();
  tw_symbolize_target(live ? live : pid);
  at_classify(&s);
  if (at_solve(&s, NULL) > 0) {
    bool *keep = calloc(s.n, sizeof(bool));
    if (keep) {
      confirm(&s, keep);
      at_solve(&s, keep);
      free(keep);
    }
  }
  at_verdict(&s);
  s.took_ns = now_ns() - t0;
  *out = s;
  return 0;
}

/* Whether the --pprof file was made by this attach (it is removed when the attach fails). */
static bool pprof_created;

/* Opens the --pprof file before the process is touched (an unwritable file is said at once);
 * it is emptied only when the profile is written. Returns the fd, or -1 (said). */
static int pprof_open(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  pprof_created = fd >= 0;
  if (fd < 0 && errno == EEXIST) fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("attach: cannot write %s: %s", path, strerror(errno));
  return fd;
}

/* Closes the --pprof file: kept when the profile is in it, else removed if this attach made it.
 * 0 or -errno (close can report a write that failed). */
static int pprof_close(int fd, const char *path, bool written) {
  int rc = close(fd) == 0 ? 0 : -errno;
  if ((!written || rc) && pprof_created) unlink(path);
  return rc;
}

/* A deadlock the chosen output does not show is said on stderr (the exit status is 66). */
static void deadlock_note(const struct at_snapshot *s) {
  if (s->nreports)
    fprintf(stderr, "threadwatch: %zu deadlock%s found in process %d (the report: threadwatch "
                    "attach %d)\n", s->nreports, s->nreports == 1 ? "" : "s", s->pid, s->pid);
}

int cmd_attach(int argc, char **argv) {
  enum { O_HOLD = 0x3000, O_PPROF, O_FOLDED };
  static const struct option longopts[] = {{"all", no_argument, NULL, 'a'},
                                           {"json", no_argument, NULL, 'j'},
                                           {"hold-for-test", no_argument, NULL, O_HOLD},
                                           {"pprof", required_argument, NULL, O_PPROF},
                                           {"folded", no_argument, NULL, O_FOLDED},
                                           {"help", no_argument, NULL, CLI_OPT_HELP},
                                           {"version", no_argument, NULL, CLI_OPT_VERSION},
                                           {NULL, 0, NULL, 0}};
  bool all = false, json = false, hold = false, folded = false;
  const char *pprof = NULL;
  int c;
  optind = 0;
  while ((c = getopt_long(argc, argv, "ajh", longopts, NULL)) != -1) {
    switch (c) {
      case 'a': all = true; break;
      case 'j': json = true; break;
      case O_HOLD: hold = true; break; /* tests/attach: see run.sh */
      case O_PPROF: pprof = optarg; break;
      case O_FOLDED: folded = true; break;
      case CLI_OPT_HELP: return cli_help("attach", stdout);
      case CLI_OPT_VERSION: return cli_version();
      default:
        fprintf(stderr, "usage: threadwatch attach [-a|--all] [-j|--json] [--pprof FILE] "
                        "[--folded] PID\n");
        return 2;
    }
  }
  bool pprof_stdout = pprof && !strcmp(pprof, "-");
  if (pprof && !pprof[0]) return cli_misuse("attach", "--pprof takes a file name (- for stdout)");
  if (folded && (all || json))
    return cli_misuse("attach", "--folded prints folded stacks instead of the dump: not with "
                                "--all or --json");
  if (pprof_stdout && (all || json || folded))
    return cli_misuse("attach", "--pprof - writes the profile to stdout instead of the dump: not "
                                "with --all, --json or --folded");
  if (optind >= argc) return cli_misuse("attach", "no PID given");
  if (optind + 1 < argc) return cli_misuse("attach", "one PID only (got '%s' too)", argv[optind + 1]);
  const char *pid_arg = argv[optind];
  char *end = NULL;
  long lpid = strtol(pid_arg, &end, 10);
  if (*end != '\0' || end == pid_arg || lpid <= 0 || lpid > 0x3fffffff)
    return cli_misuse("attach", "'%s' is not a process id", pid_arg);
  if (pprof_stdout && isatty(STDOUT_FILENO)) {
    fprintf(stderr, "threadwatch: not writing a binary pprof profile to a terminal; redirect it "
                    "(threadwatch attach --pprof - %ld > threads.pb.gz)\n", lpid);
    return 2;
  }
  int pfd = pprof_stdout ? STDOUT_FILENO : pprof ? pprof_open(pprof) : -1;
  if (pprof && pfd < 0) return 1;

  struct at_snapshot s;
  int rc = take(lpid, hold, &s);
  if (rc != 0) {
    if (pfd >= 0 && !pprof_stdout) pprof_close(pfd, pprof, false);
    return rc;
  }
  rc = s.nreports ? 66 : 0;
  struct tw_profile prof;
  bool want_prof = pprof || folded;
  int err = want_prof ? at_profile(&s, &prof) : 0;
  if (err) rc = fail("attach: cannot make the thread profile: %s", strerror(-err));
  else if (folded) {
    fflush(stdout);
    if ((err = at_profile_folded(&prof, STDOUT_FILENO)) != 0)
      rc = fail("attach: writing the folded stacks: %s", strerror(-err));
  } else if (!pprof_stdout) rc = at_print(&s, all, json);
  if (pprof && !err) {
    fflush(stdout);
    struct stat fst; /* a regular file is emptied first; a pipe or a device is written as it is */
    if (!pprof_stdout && fstat(pfd, &fst) == 0 && S_ISREG(fst.st_mode) && ftruncate(pfd, 0) != 0)
      err = -errno;
    if (!err) err = at_profile_pprof(&s, &prof, pfd);
    if (!err && !pprof_stdout) {
      err = pprof_close(pfd, pprof, true);
      pfd = -1;
    }
    if (err)
      rc = fail("attach: cannot write %s: %s", pprof_stdout ? "the profile to stdout" : pprof,
                strerror(-err));
  }
  if (pfd >= 0 && !pprof_stdout && err) pprof_close(pfd, pprof, false);
  if (rc == 66 && (folded || pprof_stdout)) deadlock_note(&s);
  if (want_prof) tw_profile_free(&prof);
  free(s.t);
  free(s.fds);
  free(s.nodes);
  return rc;
}
