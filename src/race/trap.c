/* Race watching: the trapped access (read or write, stack, shadow check, the race pair sent to the
 * reporter) and the signal handlers (SIGTRAP from the breakpoints, SIGSEGV and the single step of
 * page emulation). */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "base/limits.h"
#include "race/trap.h"
#include "race/x86.h"
#include "runtime/registry.h"
#include "runtime/ring.h"
#include "runtime/stackdepot.h"

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

_Atomic uint64_t tw__race_traps_total, tw__race_traps_tool, tw__race_traps_async,
    tw__race_traps_untracked;
__thread struct tw_race_tls tw__race_tls __attribute__((tls_model("initial-exec")));
struct sigaction tw__race_old_trap, tw__race_old_segv;
int tw__race_trap_installed, tw__race_segv_installed;
volatile long tw__race_probe_word;
_Atomic int tw__race_probe_hits;

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
  if (!tw_unwind_enter()) {
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (*kind < 0) *kind = TW_X86_NONE;
    return tw_depot_put(&pc, 1);
  }
  uint32_t id = capture_walk(uc, kind, lo, hi);
  tw_unwind_leave();
  return id;
}

int tw__race_my_slot(void) {
  if (tw__race_tls.slot == 0) {
    int s = tw_hb_slot_claim();
    if (s < 0) return -1;
    tw__race_tls.slot = s + 1;
  }
  return tw__race_tls.slot - 1;
}

/* Sends pair `idx` to the reporter from this thread's ring. Only outside tool code (guard 0): every
 * ring push of the tool runs with the guard held, so a trap never lands inside one on this ring.
 * Otherwise (or with a full ring, or before the thread has a record) it waits in tw__race_tls.pending. */
static void send_pair(struct tw_tls *t, uint32_t idx, uint32_t gen) {
  struct tw_event ev = {.type = TW_EV_RACE_ACCESS, .a = idx, .b = gen};
  if (t->self) { /* the caller knows the trap came from outside tool code */
    if (tw_thread_push(t->self, &ev)) {
      tw_ring_nudge();
      return;
    }
  }
  if (tw__race_tls.npending < (int)TW_ARRAY_LEN(tw__race_tls.pending)) {
    tw__race_tls.pending[tw__race_tls.npending] = idx;
    tw__race_tls.pending_gen[tw__race_tls.npending++] = gen;
    return;
  }
  struct tw_race_pair *p = tw_race_pair_at(idx, gen);
  if (p) tw_race_pair_free(p); /* nowhere to keep it: lost (a report of another pair may follow) */
}

/* Pending pairs, sent from a hook (guard held by the caller: the push is ordinary tool code). */
void tw__race_flush_pending(struct tw_tls *t) {
  if (!tw__race_tls.npending || !t->self) return;
  int kept = 0;
  for (int i = 0; i < tw__race_tls.npending; i++) {
    struct tw_event ev = {.type = TW_EV_RACE_ACCESS, .a = tw__race_tls.pending[i],
                          .b = tw__race_tls.pending_gen[i]};
    if (tw_thread_push(t->self, &ev)) continue;
    tw__race_tls.pending[kept] = tw__race_tls.pending[i];
    tw__race_tls.pending_gen[kept++] = tw__race_tls.pending_gen[i];
  }
  if (kept != tw__race_tls.npending) tw_ring_nudge();
  tw__race_tls.npending = kept;
}

static void access_checked(struct tw_tls *t, struct tw_race_piece *pc, int i, ucontext_t *uc,
                           int fault_kind);

/* One trapped access to piece `i`, the interrupted context `uc` right after the accessing
 * instruction. fault_kind: the read/write a page fault reported (page emulation), -1 otherwise.
 * Runs in the SIGTRAP handler with every signal blocked. */
static void on_access(int i, ucontext_t *uc, int fault_kind) {
  struct tw_tls *t = tw_tls();
  tw_add_relaxed(&tw__race_traps_total, 1);
  if (t->gone || tw__race_tls.exited) return;
  if (t->guard) { /* tool code touched it (a hook reading a watched lock word): not the app's */
    tw_add_relaxed(&tw__race_traps_tool, 1);
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
  int slot = tw__race_my_slot();
  if (slot < 0) {
    tw_add_relaxed(&tw__race_traps_untracked, 1);
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

/* Page emulation (trap.h). */
struct tw_race_page tw__race_pages[TW_RACE_DEBUG_REGS];
uintptr_t tw__race_page_size;

void tw__race_page_lock(struct tw_race_page *p) {
  for (;;) {
    int expected = 0;
    if (atomic_compare_exchange_weak(&p->lock, &expected, 1)) return;
    __builtin_ia32_pause();
  }
}
void tw__race_page_unlock(struct tw_race_page *p) { tw_store_release(&p->lock, 0); }

int tw__race_page_index(uintptr_t addr) {
  for (int k = 0; k < TW_RACE_DEBUG_REGS; k++)
    if (tw__race_pages[k].pieces && addr - tw__race_pages[k].base < tw__race_page_size) return k;
  return -1;
}

static int piece_at(uintptr_t addr) {
  for (int k = 0; k < TW_RACE_DEBUG_REGS; k++) {
    struct tw_race_piece *p = &tw__race_pieces[k];
    if (tw_load_relaxed(&p->armed) && addr - p->addr < p->len) return k;
  }
  return -1;
}

void tw__race_on_sigtrap(int sig, siginfo_t *si, void *ucv) {
  int saved = errno;
  ucontext_t *uc = ucv;
  unsigned piece, gen;
  if (si->si_code == TRAP_PERF && tw_race_sig_parse(si_perf_data(si), &piece, &gen)) {
    if (si_perf_data(si) == PROBE_SIG_DATA) {
      tw_add_relaxed(&tw__race_probe_hits, 1);
    } else if (si_perf_flags(si) & TRAP_PERF_FLAG_ASYNC) {
      /* SIGTRAP was blocked at the access: the context is not the access's any more. */
      tw_add_relaxed(&tw__race_traps_async, 1);
    } else if (piece < TW_RACE_DEBUG_REGS && (tw__race_pieces[piece].gen & 0xff) == gen) {
      int fault_kind = tw__race_tls.fault_kind; /* page emulation's, for the cross-check; 0: none */
      tw__race_tls.fault_kind = 0;
      on_access((int)piece, uc, fault_kind ? fault_kind : -1);
    }
  } else if (si->si_code == TRAP_TRACE && tw__race_tls.stepping) {
    /* Page emulation: the faulting access has executed; close the page again. */
    uc->uc_mcontext.gregs[REG_EFL] &= ~0x100ll;
    struct tw_race_page *p = &tw__race_pages[tw__race_tls.step_page];
    tw__race_page_lock(p);
    if (--p->steppers == 0) mprotect((void *)p->base, tw__race_page_size, PROT_NONE);
    tw__race_page_unlock(p);
    tw__race_tls.stepping = 0;
    if (tw__race_tls.step_piece >= 0) {
      /* Played like the hardware: a TRAP_PERF SIGTRAP carrying the piece's sig_data, queued to
       * this thread now (SIGTRAP is blocked in this handler), arrives as soon as it returns, that
       * is with the context just after the access, and goes through the hardware path. */
      struct tw_race_piece *pc = &tw__race_pieces[tw__race_tls.step_piece];
      siginfo_t info;
      memset(&info, 0, sizeof(info));
      info.si_signo = SIGTRAP;
      info.si_code = TRAP_PERF;
      uint64_t data = tw_race_sig_data((unsigned)tw__race_tls.step_piece, pc->gen);
      memcpy((char *)&info + 24, &data, sizeof(data));
      tw__race_tls.fault_kind = tw__race_tls.fault_write ? TW_X86_WRITE : TW_X86_READ;
      if (syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGTRAP, &info) != 0)
        tw__race_tls.fault_kind = 0;
    }
  } else {
    chain(sig, &tw__race_old_trap, si, ucv);
  }
  errno = saved;
}

void tw__race_on_sigsegv(int sig, siginfo_t *si, void *ucv) {
  int saved = errno;
  ucontext_t *uc = ucv;
  uintptr_t addr = (uintptr_t)si->si_addr;
  int k = si->si_code == SEGV_ACCERR ? tw__race_page_index(addr) : -1;
  if (k < 0) {
    chain(sig, &tw__race_old_segv, si, ucv);
    errno = saved;
    return;
  }
  struct tw_race_page *p = &tw__race_pages[k];
  tw__race_page_lock(p);
  if (!tw__race_tls.stepping) p->steppers++;
  /* (Again when a handler nested in our step faulted on it, or another thread closed it.) */
  mprotect((void *)p->base, tw__race_page_size, PROT_READ | PROT_WRITE);
  tw__race_page_unlock(p);
  tw__race_tls.stepping = 1;
  tw__race_tls.step_page = k;
  tw__race_tls.step_piece = piece_at(addr);
  tw__race_tls.fault_write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
  uc->uc_mcontext.gregs[REG_EFL] |= 0x100; /* the trap flag: SIGTRAP after one instruction */
  errno = saved;
}

int tw__race_install(int sig, void (*fn)(int, siginfo_t *, void *), struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&sa.sa_mask); /* no application handler runs inside ours */
  return sigaction(sig, &sa, old);
}

void tw__race_ensure_trap_handler(void) {
  if (tw__race_trap_installed) return;
  if (tw__race_install(SIGTRAP, tw__race_on_sigtrap, &tw__race_old_trap) == 0) tw__race_trap_installed = 1;
}

