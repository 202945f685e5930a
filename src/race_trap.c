/* The trap side of race watching (preloaded library only): hardware watchpoints armed in every
 * thread, the SIGTRAP handler that records each access (thread, read or write, locks held, stack)
 * and checks it against the piece's shadow, and the hook side of the happens-before bookkeeping.
 *
 * Hardware: one perf_event_open(PERF_TYPE_BREAKPOINT, HW_BREAKPOINT_RW) per watched piece and
 * thread, with sigtrap (a synchronous SIGTRAP, si_code TRAP_PERF, at the instruction after the
 * access; Linux 5.13+), remove_on_exec (an exec'd program never inherits them), inherit +
 * inherit_thread (threads created later get a copy from their creator; a fork child does not).
 * The threads alive when a range is armed each get their own event (perf_event_open on their tid).
 * Read or write: x86 has only write and read-write breakpoints; the trapping instruction (the one
 * that ended at the trap's instruction pointer, found by decoding its function from the start) says
 * which (race_x86.c).
 *
 * Page emulation (tests only, TW_TEST_RACE_BACKEND=page or =auto on a machine whose debug registers
 * do not fire, e.g. under a hypervisor that does not virtualise them): the watched pages are
 * protected, a fault is single-stepped (trap flag) with the page open, and the step's SIGTRAP
 * queues the thread a TRAP_PERF SIGTRAP with the piece's sig_data, which arrives with the context
 * just after the access: the hardware's path from the signal on (same parsing, decoding, analysis).
 * It changes the program (a system call given a pointer into a watched page fails with EFAULT;
 * futex waits on such a page fail; another thread's access while the page is open is not seen):
 * only for test programs written for it (docs/race.md). */
#include "race.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "elfsym.h"
#include "fdtrack.h"
#include "options.h"
#include "race_state.h"
#include "race_x86.h"
#include "real.h"
#include "registry.h"
#include "report.h"
#include "reporter.h"
#include "ring.h"
#include "stackdepot.h"
#include "tls.h"

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif
#ifndef TRAP_PERF_FLAG_ASYNC
#define TRAP_PERF_FLAG_ASYNC 1u
#endif

/* glibc 2.36 has no si_perf_* names: the kernel's layout (siginfo _sigfault: the address, then
 * the union whose _perf member is {unsigned long data; u32 type; u32 flags}). */
static_assert(offsetof(siginfo_t, si_addr) == 16, "x86-64 siginfo layout");
static inline uint64_t si_perf_data(const siginfo_t *si) {
  uint64_t v;
  memcpy(&v, (const char *)si + 24, sizeof(v));
  return v;
}
static inline uint32_t si_perf_flags(const siginfo_t *si) {
  uint32_t v;
  memcpy(&v, (const char *)si + 36, sizeof(v));
  return v;
}

int tw__race_on;

enum backend { BK_UNSET = 0, BK_HW, BK_PAGE, BK_OFF };
static int backend;
static int off_errno;            /* why it is off (returned by tw_race_watch) */
static int test_refuse;          /* TW_TEST_RACE_BACKEND=refuse:ERRNO: perf_event_open fails so */
static int test_mode;            /* 0 hardware only, 1 auto (page emulation if it does not fire),
                                  * 2 page emulation */
static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER; /* ranges, pieces, arming */

/* Counters (read by tests through the report, and by docs/race.md's cost figures). */
static _Atomic uint64_t traps_total, traps_tool, traps_async, traps_untracked;

/* Per-thread trap state. Initial-exec TLS: the handler reads it without any call. */
struct race_tls {
  int slot;            /* vector-clock slot + 1, 0 = none yet */
  int exited;          /* the thread has left: its slot is gone, its traps are ignored */
  int stepping;        /* page emulation: a faulting access is being single-stepped */
  int step_piece;      /* ... touching this piece (-1: another word of a watched page) */
  int step_page;
  int fault_write;
  int fault_kind;      /* page emulation: the fault's read/write for the TRAP_PERF it sends, 0 */
  int npending;        /* race pairs not yet sent (the ring was busy or full) */
  uint32_t pending[8], pending_gen[8];
};
static __thread struct race_tls rtls __attribute__((tls_model("initial-exec")));

static struct sigaction old_trap, old_segv;
static int trap_installed, segv_installed;
static volatile long probe_word;
static _Atomic int probe_hits;
#define PROBE_SIG_DATA (TW_RACE_SIG_MAGIC | 0xffff) /* piece 255: never a real one */

/* ---------------------------------------------------------------------------------------------
 * Messages
 */

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
  char line[1024];
  int n = snprintf(line, sizeof(line), "==%ld== threadwatch: ", (long)getpid());
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = strlen(line);
  if (len + 1 < sizeof(line)) memcpy(line + len, "\n", 2);
  tw_analysis_lock();
  tw_report_log_line(line);
  tw_analysis_unlock();
}

static const char *errno_name(int e) {
  switch (e) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "error";
  }
}

/* Race watching is off for good in this process: one line says why. */
static void turn_off(int e, const char *why) {
  backend = BK_OFF;
  off_errno = e;
  log_line("race watching is off: %s; THREADWATCH_WATCH and threadwatch_watch() have no effect",
           why);
}

/* ---------------------------------------------------------------------------------------------
 * perf_event_open
 */

static int open_bp(pid_t tid, uintptr_t addr, uint32_t len, uint64_t sig_data) {
  if (test_refuse) {
    errno = test_refuse;
    return -1;
  }
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.type = PERF_TYPE_BREAKPOINT;
  a.size = sizeof(a);
  a.bp_type = HW_BREAKPOINT_RW;
  a.bp_addr = addr;
  a.bp_len = len;
  a.sample_period = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  a.sigtrap = 1;
  a.remove_on_exec = 1;
  a.inherit = 1;
  a.inherit_thread = 1;
  a.sig_data = sig_data;
  int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return -1;
  /* Above the numbers the application expects its own opens to get (see limits.h). */
  int high = fcntl(fd, F_DUPFD_CLOEXEC, TW_TOOL_FD_BASE);
  if (high >= 0) {
    close(fd);
    fd = high;
  }
  return fd;
}

static uint64_t sig_data_of(int piece) {
  return tw_race_sig_data((unsigned)piece, tw__race_pieces[piece].gen);
}

/* ---------------------------------------------------------------------------------------------
 * The access: read or write, stack, shadow check
 */

static void regs_of(const ucontext_t *uc, struct tw_x86_regs *r) {
  static const int map[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI,
                              REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13,
                              REG_R14, REG_R15};
  for (int i = 0; i < 16; i++) r->r[i] = (uint64_t)uc->uc_mcontext.gregs[map[i]];
}

/* Read/write by instruction pointer: the decoding of a site is done once. */
#define KIND_CACHE 1024
static _Atomic uint64_t kind_cache[KIND_CACHE];

static int cached_kind(uintptr_t pc) {
  uint64_t e = tw_load_relaxed(&kind_cache[(pc * 0x9E3779B97F4A7C15ull) >> 54]);
  return (e >> 2) == (uint64_t)pc ? (int)(e & 3) : -1;
}

static void cache_kind(uintptr_t pc, int kind) {
  tw_store_relaxed(&kind_cache[(pc * 0x9E3779B97F4A7C15ull) >> 54],
                   ((uint64_t)pc << 2) | (unsigned)kind);
}

/* The stack of the interrupted code (frame 0: the instruction after the access), and the access's
 * read/write class from the function's code (when *kind < 0: not cached yet). Async-signal-safe
 * (libunwind local unwinding with per-thread caches; no allocation).
 *
 * The stack comes from unw_backtrace, which walks this handler's own stack through the signal
 * frame with libunwind's per-thread trace cache (a few hundred nanoseconds once warm); the frames
 * before the interrupted instruction pointer are ours and the kernel's trampoline. A cursor on the
 * signal's context (unw_init_local2) is only used to find the function's start for the decoder,
 * once per access site, and as a fallback: each of its steps may look the frame up with
 * dl_iterate_phdr under a signal mask change, two system calls. */
static uint32_t capture_walk(ucontext_t *uc, int *kind, uintptr_t lo, uintptr_t hi) {
  uintptr_t frames[TW_STACK_MAX_FRAMES];
  int k = 0;
  uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  if (*kind >= 0) {
    void *buf[TW_STACK_MAX_FRAMES + 16];
    int n = unw_backtrace(buf, (int)TW_ARRAY_LEN(buf));
    int i = 0;
    while (i < n && (uintptr_t)buf[i] != pc) i++;
    if (i < n) {
      for (; i < n && k < TW_STACK_MAX_FRAMES; i++)
        if (!tw_stack_is_self((uintptr_t)buf[i]))
          frames[k++] = (uintptr_t)buf[i];
      return tw_depot_put(frames, k);
    }
  }
  unw_cursor_t c;
  if (unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) != 0) {
    frames[k++] = pc;
    if (*kind < 0) *kind = TW_X86_NONE;
    return tw_depot_put(frames, k);
  }
  if (*kind < 0) {
    unw_proc_info_t pi;
    *kind = TW_X86_NONE;
    if (unw_get_proc_info(&c, &pi) == 0 && pi.start_ip <= pc && pc <= pi.end_ip) {
      uintptr_t end = pc + 15 < pi.end_ip ? pc + 15 : (uintptr_t)pi.end_ip;
      struct tw_x86_regs regs;
      regs_of(uc, &regs);
      *kind = tw_x86_trap_access((const uint8_t *)pi.start_ip, end - pi.start_ip, pi.start_ip, pc,
                                 &regs, lo, hi);
    }
    cache_kind(pc, *kind);
  }
  do {
    unw_word_t ip = 0;
    if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0) break;
    if (!tw_stack_is_self((uintptr_t)ip)) frames[k++] = (uintptr_t)ip;
  } while (k < TW_STACK_MAX_FRAMES && unw_step(&c) > 0);
  if (k == 0) frames[k++] = pc;
  return tw_depot_put(frames, k);
}

/* The walk passes the fork gate of stackdepot.c (libunwind's locks must not be held at a fork). */
static uint32_t capture(ucontext_t *uc, int *kind, uintptr_t lo, uintptr_t hi) {
  tw_unwind_enter();
  uint32_t id = capture_walk(uc, kind, lo, hi);
  tw_unwind_leave();
  return id;
}

static int my_slot(void) {
  if (rtls.slot == 0) {
    int s = tw_hb_slot_claim();
    if (s < 0) return -1;
    rtls.slot = s + 1;
  }
  return rtls.slot - 1;
}

/* Sends pair `idx` to the reporter from this thread's ring. Only outside tool code (guard 0): every
 * ring push of the tool runs with the guard held, so a trap never lands inside one on this ring.
 * Otherwise (or with a full ring, or before the thread has a record) it waits in rtls.pending. */
static void send_pair(struct tw_tls *t, uint32_t idx, uint32_t gen) {
  struct tw_event ev = {.type = TW_EV_RACE_ACCESS, .a = idx, .b = gen};
  if (t->self) { /* the caller knows the trap came from outside tool code */
    tw_ring_t *r = tw__ring_of(t->self);
    if (r && tw_ring_push(r, &ev)) {
      tw_ring_nudge();
      return;
    }
  }
  if (rtls.npending < (int)TW_ARRAY_LEN(rtls.pending)) {
    rtls.pending[rtls.npending] = idx;
    rtls.pending_gen[rtls.npending++] = gen;
    return;
  }
  struct tw_race_pair *p = tw_race_pair_at(idx, gen);
  if (p) tw_race_pair_free(p); /* nowhere to keep it: lost (a report of another pair may follow) */
}

/* Pending pairs, sent from a hook (guard held by the caller: the push is ordinary tool code). */
static void flush_pending(struct tw_tls *t) {
  if (!rtls.npending || !t->self) return;
  tw_ring_t *r = tw__ring_of(t->self);
  int kept = 0;
  for (int i = 0; i < rtls.npending; i++) {
    struct tw_event ev = {.type = TW_EV_RACE_ACCESS, .a = rtls.pending[i],
                          .b = rtls.pending_gen[i]};
    if (r && tw_ring_push(r, &ev)) continue;
    rtls.pending[kept] = rtls.pending[i];
    rtls.pending_gen[kept++] = rtls.pending_gen[i];
  }
  if (kept != rtls.npending) tw_ring_nudge();
  rtls.npending = kept;
}

static void access_checked(struct tw_tls *t, struct tw_race_piece *pc, int i, ucontext_t *uc,
                           int fault_kind);

/* One trapped access to piece `i`, the interrupted context `uc` right after the accessing
 * instruction. fault_kind: the read/write a page fault reported (page emulation), -1 otherwise.
 * Runs in the SIGTRAP handler with every signal blocked. */
static void on_access(int i, ucontext_t *uc, int fault_kind) {
  struct tw_tls *t = tw_tls();
  tw_add_relaxed(&traps_total, 1);
  if (t->gone || rtls.exited) return;
  if (t->guard) { /* tool code touched it (a hook reading a watched lock word): not the app's */
    tw_add_relaxed(&traps_tool, 1);
    return;
  }
  struct tw_race_piece *pc = &tw__race_pieces[i];
  if (!tw_load_acquire(&pc->armed)) return;
  /* From here on this is tool code: libunwind takes its own mutex on a cache miss, and our
   * pthread_mutex_lock hook must let it straight through (it would unwind again, and deadlock). */
  t->guard++;
  access_checked(t, pc, i, uc, fault_kind);
  t->guard--;
}

static void access_checked(struct tw_tls *t, struct tw_race_piece *pc, int i, ucontext_t *uc,
                           int fault_kind) {
  int slot = my_slot();
  if (slot < 0) {
    tw_add_relaxed(&traps_untracked, 1);
    return;
  }
  uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  int kind = cached_kind(ip);
  struct tw_race_access cur;
  memset(&cur, 0, sizeof(cur));
  cur.stack = capture(uc, &kind, pc->addr, pc->addr + pc->len);
  if (fault_kind >= 0 && kind != TW_X86_NONE && kind != fault_kind)
    tw_add_relaxed(&tw__race_decoder_disagreed, 1);
  /* Undecodable: counted as a write (it may be one; a read taken for a write can only add a
   * report, never hide one). */
  cur.write = kind != TW_X86_READ;
  cur.thread = t->self ? t->self->id : 0;
  cur.tid = t->self ? tw_load_relaxed(&t->self->tid) : (int32_t)syscall(SYS_gettid);
  cur.slot = (uint16_t)slot;
  cur.sgen = tw_hb_slot_gen(slot);
  cur.epoch = tw_hb_vc(slot)[slot];
  cur.pc = ip;
  for (uint32_t h = t->nheld; h-- > 0 && cur.nlocks < TW_RACE_MAX_LOCKS;)
    cur.locks[cur.nlocks++] = t->held[h].lock; /* innermost first */
  struct tw_race_access prior;
  tw_race_shadow_lock(&pc->shadow);
  bool found = tw_race_shadow_check(&pc->shadow, &cur, &prior);
  tw_race_shadow_unlock(&pc->shadow);
  if (!found || !tw_race_pair_first(pc->range, prior.pc, cur.pc)) return;
  uint32_t idx;
  struct tw_race_pair *p = tw_race_pair_get(&idx);
  if (!p) return;
  p->range = pc->range;
  p->piece = (uint32_t)i;
  p->addr = pc->addr;
  p->len = pc->len;
  p->prior = prior;
  p->cur = cur;
  uint32_t gen = p->gen;
  tw_race_pair_ready(p);
  send_pair(t, idx, gen);
}

/* ---------------------------------------------------------------------------------------------
 * Signal handlers
 */

/* A signal that is not ours goes where it would have gone without us. */
static void chain(int sig, const struct sigaction *old, siginfo_t *si, void *uc) {
  if (old->sa_flags & SA_SIGINFO) {
    if (old->sa_sigaction) old->sa_sigaction(sig, si, uc);
    return;
  }
  if (old->sa_handler == SIG_IGN) return;
  if (old->sa_handler == SIG_DFL) {
    /* The default action (a core dump for SIGTRAP and SIGSEGV): restore it and let the signal
     * come again, now to the default (it is blocked until this handler returns). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
    return;
  }
  old->sa_handler(sig);
}

/* Page emulation: the pages with watched pieces, protected while no access is being stepped. */
struct page {
  uintptr_t base;     /* 0: unused */
  int pieces;         /* watched pieces on it */
  _Atomic int lock;
  int steppers;       /* threads single-stepping an access to it (it is open meanwhile) */
};
static struct page pages[TW_RACE_DEBUG_REGS];
static uintptr_t page_size;

static void page_lock(struct page *p) {
  for (;;) {
    int expected = 0;
    if (atomic_compare_exchange_weak(&p->lock, &expected, 1)) return;
    __builtin_ia32_pause();
  }
}
static void page_unlock(struct page *p) { tw_store_release(&p->lock, 0); }

static int page_index(uintptr_t addr) {
  for (int k = 0; k < TW_RACE_DEBUG_REGS; k++)
    if (pages[k].pieces && addr - pages[k].base < page_size) return k;
  return -1;
}

static int piece_at(uintptr_t addr) {
  for (int k = 0; k < TW_RACE_DEBUG_REGS; k++) {
    struct tw_race_piece *p = &tw__race_pieces[k];
    if (tw_load_relaxed(&p->armed) && addr - p->addr < p->len) return k;
  }
  return -1;
}

static void on_sigtrap(int sig, siginfo_t *si, void *ucv) {
  int saved = errno;
  ucontext_t *uc = ucv;
  unsigned piece, gen;
  if (si->si_code == TRAP_PERF && tw_race_sig_parse(si_perf_data(si), &piece, &gen)) {
    if (si_perf_data(si) == PROBE_SIG_DATA) {
      tw_add_relaxed(&probe_hits, 1);
    } else if (si_perf_flags(si) & TRAP_PERF_FLAG_ASYNC) {
      /* SIGTRAP was blocked at the access: the context is not the access's any more. */
      tw_add_relaxed(&traps_async, 1);
    } else if (piece < TW_RACE_DEBUG_REGS && (tw__race_pieces[piece].gen & 0xff) == gen) {
      int fault_kind = rtls.fault_kind; /* page emulation's, for the cross-check; 0: none */
      rtls.fault_kind = 0;
      on_access((int)piece, uc, fault_kind ? fault_kind : -1);
    }
  } else if (si->si_code == TRAP_TRACE && rtls.stepping) {
    /* Page emulation: the faulting access has executed; close the page again. */
    uc->uc_mcontext.gregs[REG_EFL] &= ~0x100ll;
    struct page *p = &pages[rtls.step_page];
    page_lock(p);
    if (--p->steppers == 0) mprotect((void *)p->base, page_size, PROT_NONE);
    page_unlock(p);
    rtls.stepping = 0;
    if (rtls.step_piece >= 0) {
      /* Played like the hardware: a TRAP_PERF SIGTRAP carrying the piece's sig_data, queued to
       * this thread now (SIGTRAP is blocked in this handler), arrives as soon as it returns, that
       * is with the context just after the access, and goes through the hardware path. */
      struct tw_race_piece *pc = &tw__race_pieces[rtls.step_piece];
      siginfo_t info;
      memset(&info, 0, sizeof(info));
      info.si_signo = SIGTRAP;
      info.si_code = TRAP_PERF;
      uint64_t data = tw_race_sig_data((unsigned)rtls.step_piece, pc->gen);
      memcpy((char *)&info + 24, &data, sizeof(data));
      rtls.fault_kind = rtls.fault_write ? TW_X86_WRITE : TW_X86_READ;
      if (syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGTRAP, &info) != 0)
        rtls.fault_kind = 0;
    }
  } else {
    chain(sig, &old_trap, si, ucv);
  }
  errno = saved;
}

static void on_sigsegv(int sig, siginfo_t *si, void *ucv) {
  int saved = errno;
  ucontext_t *uc = ucv;
  uintptr_t addr = (uintptr_t)si->si_addr;
  int k = si->si_code == SEGV_ACCERR ? page_index(addr) : -1;
  if (k < 0) {
    chain(sig, &old_segv, si, ucv);
    errno = saved;
    return;
  }
  struct page *p = &pages[k];
  page_lock(p);
  if (!rtls.stepping) p->steppers++;
  /* (Again when a handler nested in our step faulted on it, or another thread closed it.) */
  mprotect((void *)p->base, page_size, PROT_READ | PROT_WRITE);
  page_unlock(p);
  rtls.stepping = 1;
  rtls.step_page = k;
  rtls.step_piece = piece_at(addr);
  rtls.fault_write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
  uc->uc_mcontext.gregs[REG_EFL] |= 0x100; /* the trap flag: SIGTRAP after one instruction */
  errno = saved;
}

static int install(int sig, void (*fn)(int, siginfo_t *, void *), struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&sa.sa_mask); /* no application handler runs inside ours */
  return sigaction(sig, &sa, old);
}

static void ensure_trap_handler(void) {
  if (trap_installed) return;
  if (install(SIGTRAP, on_sigtrap, &old_trap) == 0) trap_installed = 1;
}

/* Whether a breakpoint fires here: some hypervisors accept perf_event_open for breakpoints but do
 * not load the debug registers. One read of a probe word with a breakpoint on it, SIGTRAP
 * unblocked.
 * Returns 0 (fires), 1 (does not fire), or the errno of a refused perf_event_open. */
static int self_test(void) {
  int fd = open_bp(0, (uintptr_t)&probe_word, sizeof(probe_word), PROBE_SIG_DATA);
  if (fd < 0) return errno ? errno : EINVAL;
  sigset_t trap, old;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  pthread_sigmask(SIG_UNBLOCK, &trap, &old);
  int before = tw_load_relaxed(&probe_hits);
  (void)probe_word;
  __asm__ volatile("" ::: "memory");
  int fired = tw_load_relaxed(&probe_hits) != before;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(fd);
  return fired ? 0 : 1;
}

/* Picks how accesses are trapped, the first time a range is armed. */
static void choose_backend(void) {
  if (backend != BK_UNSET) return;
  ensure_trap_handler();
  if (!trap_installed) {
    turn_off(errno, "cannot install a SIGTRAP handler");
    return;
  }
  if (test_mode == 2) {
    backend = BK_PAGE;
  } else {
    int r = self_test();
    if (r == 0) {
      backend = BK_HW;
    } else if (r == 1) {
      if (test_mode == 1) backend = BK_PAGE;
      else
        turn_off(ENOTSUP, "hardware watchpoints are accepted by perf_event_open but never fire on "
                          "this machine (a hypervisor without debug-register support?)");
    } else {
      char why[200];
      switch (r) {
        case EACCES: case EPERM:
          snprintf(why, sizeof(why), "perf_event_open is not permitted (%s; see "
                   "/proc/sys/kernel/perf_event_paranoid, or a seccomp or container policy)",
                   errno_name(r));
          break;
        case ENOSYS:
          snprintf(why, sizeof(why), "this kernel has no perf_event_open (ENOSYS)");
          break;
        case ENOENT: case EOPNOTSUPP:
          snprintf(why, sizeof(why), "this kernel or CPU has no hardware breakpoint events (%s)",
                   errno_name(r));
          break;
        case EINVAL:
          snprintf(why, sizeof(why), "this kernel cannot send a synchronous SIGTRAP for a "
                   "breakpoint (EINVAL; needs Linux 5.13 or later)");
          break;
        case ENOSPC:
          snprintf(why, sizeof(why), "no debug register is free (ENOSPC; a debugger uses them?)");
          break;
        default: snprintf(why, sizeof(why), "perf_event_open failed (%s)", strerror(r));
      }
      turn_off(r, why);
    }
  }
  if (backend == BK_PAGE) {
    page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (install(SIGSEGV, on_sigsegv, &old_segv) == 0) segv_installed = 1;
    else turn_off(errno, "cannot install a SIGSEGV handler for page emulation");
  }
}

/* ---------------------------------------------------------------------------------------------
 * Arming
 */

static int add_fd(struct tw_race_piece *p, int fd) {
  if (p->nfds == p->capfds) {
    int cap = p->capfds ? p->capfds * 2 : 8;
    int *n = realloc(p->fds, sizeof(int) * (size_t)cap);
    if (!n) return -ENOMEM;
    p->fds = n;
    p->capfds = cap;
  }
  p->fds[p->nfds++] = fd;
  return 0;
}

static void close_fds(struct tw_race_piece *p) {
  for (int i = 0; i < p->nfds; i++) close(p->fds[i]);
  p->nfds = 0;
}

/* Every thread of the process, from the kernel's list (threads we never saw included). */
static int for_each_other_thread(struct tw_race_piece *p, int piece) {
  pid_t me = (pid_t)syscall(SYS_gettid);
  DIR *d = opendir("/proc/self/task");
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    pid_t tid = (pid_t)atoi(e->d_name);
    if (tid <= 0 || tid == me) continue;
    int fd = open_bp(tid, p->addr, p->len, sig_data_of(piece));
    if (fd >= 0 && add_fd(p, fd) != 0) close(fd);
    /* ESRCH: it has exited since. Others: that thread stays unwatched. */
  }
  closedir(d);
  return 0;
}

static void page_add(uintptr_t addr) {
  uintptr_t base = addr & ~(page_size - 1);
  int free_k = -1;
  for (int k = 0; k < TW_RACE_DEBUG_REGS; k++) {
    if (pages[k].pieces && pages[k].base == base) {
      pages[k].pieces++;
      return;
    }
    if (!pages[k].pieces && free_k < 0) free_k = k;
  }
  pages[free_k].base = base;
  pages[free_k].steppers = 0;
  pages[free_k].pieces = 1;
  mprotect((void *)base, page_size, PROT_NONE);
}

static void page_remove(uintptr_t addr) {
  int k = page_index(addr);
  if (k < 0) return;
  page_lock(&pages[k]);
  if (--pages[k].pieces == 0) mprotect((void *)pages[k].base, page_size, PROT_READ | PROT_WRITE);
  page_unlock(&pages[k]);
}

/* Arms piece slot `i` (free) on [addr, addr + len) for range `range`. Returns 0 or an errno. */
static int arm_piece(int i, uint16_t range, uintptr_t addr, uint32_t len) {
  struct tw_race_piece *p = &tw__race_pieces[i];
  p->gen++;
  p->range = range;
  p->addr = addr;
  p->len = len;
  memset(&p->shadow, 0, sizeof(p->shadow));
  p->nfds = 0;
  if (backend == BK_HW) {
    int fd = open_bp(0, addr, len, sig_data_of(i));
    if (fd < 0) return errno ? errno : EINVAL;
    if (add_fd(p, fd) != 0) {
      close(fd);
      return ENOMEM;
    }
    for_each_other_thread(p, i);
  } else {
    page_add(addr);
  }
  tw_store_release(&p->armed, 1);
  return 0;
}

static void disarm_piece(int i) {
  struct tw_race_piece *p = &tw__race_pieces[i];
  if (!tw_load_relaxed(&p->armed)) return;
  tw_store_release(&p->armed, 0);
  if (backend == BK_HW) close_fds(p);
  else page_remove(p->addr);
}

static int free_registers(void) {
  int n = 0;
  for (int i = 0; i < TW_RACE_DEBUG_REGS; i++) n += !tw_load_relaxed(&tw__race_pieces[i].armed);
  return n;
}

static void update_active(void) {
  int any = 0;
  for (int i = 0; i < TW_RACE_DEBUG_REGS; i++) any |= tw_load_relaxed(&tw__race_pieces[i].armed);
  __atomic_store_n(&tw__race_on, any, __ATOMIC_RELEASE);
}

static int new_range(uintptr_t addr, size_t len, const char *label, int state) {
  for (int r = 0; r < TW_RACE_MAX_RANGES; r++) {
    if (tw__race_ranges[r].state != TW_RR_FREE) continue;
    tw__race_ranges[r].state = state;
    tw__race_ranges[r].addr = addr;
    tw__race_ranges[r].len = len;
    snprintf(tw__race_ranges[r].label, sizeof(tw__race_ranges[r].label), "%s", label ? label : "");
    return r;
  }
  return -1;
}

/* " name (0x..., N bytes)" for the not-watched list. */
static void describe_request(char *out, size_t n, uintptr_t addr, size_t len, const char *label) {
  snprintf(out, n, "%s%s(%#lx, %lu byte%s)", label && label[0] ? label : "",
           label && label[0] ? " " : "", (unsigned long)addr, (unsigned long)len,
           len == 1 ? "" : "s");
}

/* Watches one range (watch lock held). *needed: registers it needs. Returns 0 or an errno. */
static int watch_locked(uintptr_t addr, size_t len, const char *label, int *needed) {
  uintptr_t pa[TW_RACE_DEBUG_REGS];
  uint32_t pl[TW_RACE_DEBUG_REGS];
  *needed = 0;
  if (len == 0 || addr == 0 || addr + len < addr) return EINVAL;
  int n = tw__race_pieces_of(addr, len, pa, pl, TW_RACE_DEBUG_REGS);
  *needed = n;
  choose_backend();
  if (backend == BK_OFF) return off_errno ? off_errno : EPERM;
  for (int r = 0; r < TW_RACE_MAX_RANGES; r++) /* the same range again: already watched */
    if (tw__race_ranges[r].state == TW_RR_WATCHED && tw__race_ranges[r].addr == addr &&
        tw__race_ranges[r].len == len)
      return 0;
  if (n > free_registers()) return ENOSPC;
  int range = new_range(addr, len, label, TW_RR_WATCHED);
  if (range < 0) return ENOSPC;
  int armed[TW_RACE_DEBUG_REGS], na = 0;
  for (int k = 0; k < n; k++) {
    int i = 0;
    while (tw_load_relaxed(&tw__race_pieces[i].armed)) i++;
    int rc = arm_piece(i, (uint16_t)range, pa[k], pl[k]);
    if (rc != 0) {
      for (int j = 0; j < na; j++) disarm_piece(armed[j]);
      tw__race_ranges[range].state = TW_RR_FREE;
      update_active();
      return rc;
    }
    armed[na++] = i;
  }
  update_active();
  return 0;
}

static void watch_lock(void) { TW_REAL_FN(pthread_mutex_lock)(&watch_mu); }
static void watch_unlock(void) { TW_REAL_FN(pthread_mutex_unlock)(&watch_mu); }

int tw_race_watch(uintptr_t addr, size_t len, const char *label) {
  watch_lock();
  int needed;
  int rc = watch_locked(addr, len, label, &needed);
  if (rc == ENOSPC) {
    char what[160];
    describe_request(what, sizeof(what), addr, len, label);
    log_line("race watching: %s needs %d debug register%s, %d of the %d of each thread %s free: "
             "not watching it", what, needed, needed == 1 ? "" : "s", free_registers(),
             TW_RACE_DEBUG_REGS, free_registers() == 1 ? "is" : "are");
  }
  if (rc == 0) (void)my_slot();
  watch_unlock();
  return rc;
}

int tw_race_unwatch(uintptr_t addr) {
  watch_lock();
  int rc = ENOENT;
  for (int r = 0; r < TW_RACE_MAX_RANGES; r++) {
    if (tw__race_ranges[r].state == TW_RR_FREE || tw__race_ranges[r].addr != addr) continue;
    for (int i = 0; i < TW_RACE_DEBUG_REGS; i++)
      if (tw_load_relaxed(&tw__race_pieces[i].armed) && tw__race_pieces[i].range == r)
        disarm_piece(i);
    rc = tw__race_ranges[r].state == TW_RR_WATCHED ? 0 : ENOENT;
    tw__race_ranges[r].state = TW_RR_FREE;
    break;
  }
  update_active();
  watch_unlock();
  return rc;
}

/* ---------------------------------------------------------------------------------------------
 * The hook side
 */

/* The application replaced our SIGTRAP handler: its handler would now get our traps. Checked at
 * most every 100 ms from the hooks' slow paths (there is no sigaction hook). */
static _Atomic uint64_t next_handler_check;

static void check_handler(void) {
  if (backend != BK_HW) return;
  uint64_t now = tw__now_ns();
  if (now < tw_load_relaxed(&next_handler_check)) return;
  tw_store_relaxed(&next_handler_check, now + 100 * 1000 * 1000);
  struct sigaction cur;
  if (sigaction(SIGTRAP, NULL, &cur) != 0 || cur.sa_sigaction == on_sigtrap) return;
  watch_lock();
  for (int i = 0; i < TW_RACE_DEBUG_REGS; i++) disarm_piece(i);
  update_active();
  backend = BK_OFF;
  off_errno = EBUSY;
  watch_unlock();
  log_line("race watching is off from now on: the application installed its own SIGTRAP handler "
           "(watchpoints removed)");
}

void tw__race_sync(enum tw_race_op op, uintptr_t obj, uintptr_t obj2) {
  struct tw_tls *t = tw_tls();
  /* Thread start and exit are called from tool code; everything else comes from the application. */
  bool lifecycle = op == TW_RACE_STARTED || op == TW_RACE_EXITING;
  if (!lifecycle && (t->guard || t->gone)) return;
  if (rtls.exited) return;
  int saved = errno;
  t->guard++;
  int slot = my_slot();
  switch (op) {
    case TW_RACE_LOCKED: tw_hb_acquire(slot, obj, true); break;
    case TW_RACE_RDLOCKED: tw_hb_acquire(slot, obj, false); break;
    case TW_RACE_UNLOCKING: {
      const struct tw_held *h = tw_held_find(t, obj, -1);
      tw_hb_release(slot, obj, h && h->mode == TW_HELD_READ);
      break;
    }
    case TW_RACE_SIGNALLING: tw_hb_release(slot, obj, false); break;
    case TW_RACE_WAITING: tw_hb_release(slot, obj2, false); break;
    case TW_RACE_WOKEN:
      tw_hb_acquire(slot, obj2, true);
      tw_hb_acquire(slot, obj, false);
      break;
    case TW_RACE_FD_WRITING:
    case TW_RACE_FD_READ: {
      int fd = (int)obj;
      uint32_t o = (unsigned)fd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdobj[fd]) : 0;
      if (!o) break;
      if (op == TW_RACE_FD_WRITING) tw_hb_release(slot, TW_HB_KEY_FD | o, false);
      else tw_hb_acquire(slot, TW_HB_KEY_FD | o, false);
      break;
    }
    case TW_RACE_CREATING:
      tw_hb_forget(TW_HB_KEY_EXIT | obj); /* a record reused: its old end is not this thread's */
      tw_hb_release(slot, TW_HB_KEY_START | obj, false);
      break;
    case TW_RACE_STARTED:
      tw_hb_acquire(slot, TW_HB_KEY_START | obj, false);
      tw_hb_forget(TW_HB_KEY_START | obj);
      break;
    case TW_RACE_EXITING:
      tw_hb_release(slot, TW_HB_KEY_EXIT | obj, false);
      flush_pending(t);
      rtls.exited = 1; /* later traps (other TSD destructors) are not analysed: the slot goes */
      rtls.slot = 0;
      tw_hb_slot_release(slot);
      break;
    case TW_RACE_JOINED:
      tw_hb_acquire(slot, TW_HB_KEY_EXIT | obj, false);
      tw_hb_forget(TW_HB_KEY_EXIT | obj);
      break;
    case TW_RACE_DESTROYED: tw_hb_forget(obj); break;
  }
  if (op != TW_RACE_EXITING) flush_pending(t);
  check_handler();
  t->guard--;
  errno = saved;
}

/* ---------------------------------------------------------------------------------------------
 * Start-up and fork
 */

static void read_test_env(void) {
  /* A test hook, not an option: see docs/race.md. */
  const char *m = getenv("TW_TEST_RACE_BACKEND");
  if (!m) return;
  if (strcmp(m, "auto") == 0) test_mode = 1;
  else if (strcmp(m, "page") == 0) test_mode = 2;
  else if (strncmp(m, "refuse:", 7) == 0) {
    static const struct { const char *name; int e; } names[] = {
        {"EACCES", EACCES}, {"EPERM", EPERM}, {"ENOSYS", ENOSYS}, {"ENOENT", ENOENT},
        {"EINVAL", EINVAL}};
    for (size_t i = 0; i < TW_ARRAY_LEN(names); i++)
      if (strcmp(m + 7, names[i].name) == 0) test_refuse = names[i].e;
  }
}

static void log_stderr_line(const char *msg) {
  size_t len = strlen(msg);
  ssize_t TW_UNUSED w = write(2, msg, len);
  w = write(2, "\n", 1);
}

static void die(const char *msg) {
  size_t len = strlen(msg);
  ssize_t TW_UNUSED w = write(2, msg, len);
  w = write(2, "\n", 1);
  _exit(2);
}

void tw_race_init(void) {
  read_test_env(); /* also for threadwatch_watch() later */
  const char *spec = tw__opt.watch;
  if (!spec[0]) return;
  struct tw_race_item items[TW_RACE_MAX_RANGES];
  char err[1024];
  int n = tw__race_parse_spec(spec, items, TW_RACE_MAX_RANGES, err, sizeof(err));
  if (n < 0) die(err);
  /* Every symbol first: a bad name is an error before anything is armed. */
  for (int k = 0; k < n; k++) {
    if (!items[k].sym[0]) continue;
    struct tw_elfsym s;
    int rc = tw_elfsym_lookup(items[k].sym, &s);
    const char *why = NULL;
    char buf[400];
    switch (rc) {
      case 0: break;
      case -EISDIR: why = "is a function, not a variable"; break;
      case -EBADSLT: why = "is thread-local (each thread has its own copy; watch one copy with "
                           "threadwatch_watch)"; break;
      case -ENOTUNIQ:
        snprintf(buf, sizeof(buf), "names several `static` variables in %s (give 0xADDR:LEN)",
                 s.module);
        why = buf;
        break;
      case -ENODATA: why = "has no size in the symbol table (give 0xADDR:LEN)"; break;
      default: {
        /* Not a parse error: THREADWATCH_WATCH is inherited by every process the program starts
         * (and by wrappers such as `timeout` or `sh -c` that start it), which do not have the
         * variable. One line, and nothing watched for that name in this process. */
        char exe[256] = "?";
        ssize_t k2 = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (k2 > 0) exe[k2] = '\0';
        snprintf(err, sizeof(err), "threadwatch: THREADWATCH_WATCH: '%s' is not a global variable "
                 "of this process (%s, pid %ld: its executable and loaded libraries, .symtab and "
                 ".dynsym; a stripped file has only exported ones); not watched here", items[k].sym,
                 exe, (long)getpid());
        log_stderr_line(err);
        items[k].sym[0] = '\0';
        items[k].len = 0; /* skipped below */
        continue;
      }
    }
    if (why) {
      snprintf(err, sizeof(err), "threadwatch: THREADWATCH_WATCH='%s' is not valid: '%s' %s; "
               "expected a comma-separated list of global variable names and 0xADDR:LEN address "
               "ranges", spec, items[k].sym, why);
      die(err);
    }
    items[k].addr = s.addr;
    items[k].len = s.size;
  }
  watch_lock();
  char missing[600] = "";
  size_t off = 0;
  int asked = 0, total = 0;
  for (int k = 0; k < n; k++) {
    if (items[k].len == 0) continue; /* a name this process does not have */
    int needed;
    int rc = watch_locked(items[k].addr, items[k].len, items[k].sym, &needed);
    total += needed;
    if (backend == BK_OFF) break; /* said once by turn_off */
    if (rc == 0) continue;
    char what[200];
    describe_request(what, sizeof(what), items[k].addr, items[k].len, items[k].sym);
    if (rc != ENOSPC) snprintf(what + strlen(what), sizeof(what) - strlen(what), " [%s]",
                               strerror(rc));
    if (off < sizeof(missing))
      off += (size_t)snprintf(missing + off, sizeof(missing) - off, "%s%s", asked ? ", " : "",
                              what);
    asked++;
  }
  if (asked)
    log_line("race watching: THREADWATCH_WATCH needs %d debug registers, a thread has %d: not "
             "watching %s", total, TW_RACE_DEBUG_REGS, missing);
  if (__atomic_load_n(&tw__race_on, __ATOMIC_RELAXED)) (void)my_slot();
  watch_unlock();
}

void tw_race_fork_child(void) {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&watch_mu, &fresh, sizeof(fresh));
  if (!__atomic_load_n(&tw__race_on, __ATOMIC_RELAXED)) return;
  /* The child is this one thread: every other slot, object and pending pair is the parent's. */
  tw_hb_reset(rtls.slot - 1);
  tw_race_pairs_reset();
  rtls.npending = 0;
  for (int i = 0; i < TW_RACE_DEBUG_REGS; i++) {
    struct tw_race_piece *p = &tw__race_pieces[i];
    if (!tw_load_relaxed(&p->armed)) continue;
    memset(&p->shadow, 0, sizeof(p->shadow));
    if (backend != BK_HW) continue;
    /* The fds are copies of the parent's events (on the parent's threads); perf events are not
     * inherited by a fork child (inherit_thread), so this thread gets its own. */
    close_fds(p);
    int fd = open_bp(0, p->addr, p->len, sig_data_of(i));
    if (fd < 0 || add_fd(p, fd) != 0) {
      if (fd >= 0) close(fd);
      tw_store_release(&p->armed, 0);
    }
  }
  if (backend == BK_PAGE) {
    rtls.stepping = 0;
    for (int k = 0; k < TW_RACE_DEBUG_REGS; k++) {
      if (!pages[k].pieces) continue;
      tw_store_relaxed(&pages[k].lock, 0);
      pages[k].steppers = 0;
      mprotect((void *)pages[k].base, page_size, PROT_NONE);
    }
  }
  update_active();
}
