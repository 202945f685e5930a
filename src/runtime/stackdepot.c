/* Stack depot: capture of the calling thread's stack (the call-path cache, else libgcc's unwinder)
 * into a fixed array, lock-free interning into an insert-only table. */
#include "runtime/stackdepot.h"

#include <dlfcn.h>
#include <link.h>
#include <unwind.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "base/atomic.h"
#include "base/limits.h"
#include "base/msg.h"
#include "runtime/callsite.h"
#include "runtime/fork.h"
#include "runtime/tls.h"
#include "base/tw.h"

struct depot_node {
  uint32_t next; /* id of the next node in the bucket chain, 0 = end */
  uint32_t hash;
  uint32_t n;
  uint32_t pad;
  uintptr_t pcs[];
};

static _Atomic uint32_t buckets[TW_DEPOT_BUCKETS];
static char *_Atomic arena;
static _Atomic uint64_t arena_used; /* bytes handed out; ids are offset / 8 + 1 */
static _Atomic uint32_t count;
static _Atomic int full_said;

uintptr_t tw__self_lo, tw__self_hi; /* threadwatch's own text, frames in it are dropped */
static uintptr_t unw_lo, unw_hi;   /* libunwind's text */
static uintptr_t gcc_lo, gcc_hi;   /* libgcc_s's text (its unwinder) */

/* libgcc's unwinder, looked up in libgcc_s itself: libunwind exports functions of the same names
 * (a cursor walk that masks signals twice per frame), and a plain reference could bind to those. */
static _Unwind_Reason_Code (*gcc_backtrace)(_Unwind_Trace_Fn, void *) = _Unwind_Backtrace;
static _Unwind_Ptr (*gcc_get_ip_info)(struct _Unwind_Context *, int *) = _Unwind_GetIPInfo;
static _Unwind_Word (*gcc_get_cfa)(struct _Unwind_Context *) = _Unwind_GetCFA;

static uint32_t hash_pcs(const uintptr_t *pcs, int n) {
  uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
  for (int i = 0; i < n; i++) {
    h ^= pcs[i];
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  }
  return (uint32_t)(h ^ (h >> 32));
}

static char *get_arena(void) {
  char *a = tw_load_acquire(&arena);
  if (tw_likely(a != NULL)) return a;
  void *m = mmap(NULL, TW_DEPOT_ARENA_BYTES, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return NULL;
  char *expected = NULL;
  if (!atomic_compare_exchange_strong(&arena, &expected, (char *)m)) {
    munmap(m, TW_DEPOT_ARENA_BYTES); /* another thread won the race */
    return expected;
  }
  return (char *)m;
}

static struct depot_node *node_at(char *a, uint32_t id) {
  return (struct depot_node *)(a + (uint64_t)(id - 1) * 8);
}

uint32_t tw_depot_put(const uintptr_t *pcs, int n) {
  if (n <= 0) return 0;
  if (n > TW_STACK_MAX_FRAMES) n = TW_STACK_MAX_FRAMES;
  char *a = get_arena();
  if (!a) return 0;
  uint32_t h = hash_pcs(pcs, n);
  _Atomic uint32_t *bucket = &buckets[h & (TW_DEPOT_BUCKETS - 1)];
  uint32_t head = tw_load_acquire(bucket); /* partner: the release CAS below */
  uint32_t mine = 0, searched_to = 0;
  for (;;) {
    for (uint32_t id = head; id != searched_to; id = node_at(a, id)->next) {
      struct depot_node *nd = node_at(a, id);
      if (nd->hash == h && nd->n == (uint32_t)n && memcmp(nd->pcs, pcs, sizeof(*pcs) * n) == 0)
        return id; /* a node we allocated and lost the race with stays unused: bounded waste */
    }
    searched_to = head;
    if (!mine) {
      uint64_t size = sizeof(struct depot_node) + sizeof(uintptr_t) * (uint64_t)n;
      uint64_t off = tw_add_relaxed(&arena_used, size);
      if (off + size > TW_DEPOT_ARENA_BYTES) {
        if (!atomic_exchange(&full_said, 1)) {
          static const char msg[] =
              "threadwatch: stack depot full (64 MiB); new stacks are shown as unavailable\n";
          tw_msg_str(msg); /* async-signal-safe */
        }
        return 0;
      }
      mine = (uint32_t)(off / 8 + 1);
      struct depot_node *nd = node_at(a, mine);
      nd->hash = h;
      nd->n = (uint32_t)n;
      memcpy(nd->pcs, pcs, sizeof(*pcs) * n);
    }
    node_at(a, mine)->next = head;
    if (tw_cas_acq_rel(bucket, &head, mine)) {
      tw_add_relaxed(&count, 1);
      return mine;
    }
    /* head now holds the new chain start: search only the nodes added since. */
  }
}

int tw_depot_get(uint32_t id, const uintptr_t **pcs) {
  char *a = tw_load_acquire(&arena);
  if (id == 0 || !a || (uint64_t)(id - 1) * 8 >= tw_load_relaxed(&arena_used)) return 0;
  struct depot_node *nd = node_at(a, id);
  *pcs = nd->pcs;
  return (int)nd->n;
}

uint32_t tw_depot_count(void) { return tw_load_relaxed(&count); }
uint64_t tw_depot_bytes(void) { return tw_load_relaxed(&arena_used); }

/* The executable segment that holds probe->pc, into probe->lo/hi. */
struct text_probe {
  uintptr_t pc, lo, hi;
};

static int find_text(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct text_probe *p = data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (p->pc >= lo && p->pc < hi) {
      p->lo = lo;
      p->hi = hi;
      return 1;
    }
  }
  return 0;
}

void tw__stack_init(void) {
  /* The race trap handler (race/trap.c) walks with libunwind's unw_backtrace: per-thread caches
   * keep it free of global locks (it runs inside a signal handler). */
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  struct text_probe self = {(uintptr_t)&tw__stack_init, 0, 0};
  dl_iterate_phdr(find_text, &self);
  tw__self_lo = self.lo;
  tw__self_hi = self.hi;
  struct text_probe unw = {(uintptr_t)&unw_backtrace, 0, 0};
  dl_iterate_phdr(find_text, &unw);
  unw_lo = unw.lo;
  unw_hi = unw.hi;
  void *gcc_s = dlopen("libgcc_s.so.1", RTLD_LAZY | RTLD_NOLOAD); /* a dependency: loaded */
  void *bt = gcc_s ? dlsym(gcc_s, "_Unwind_Backtrace") : NULL;
  void *ip = gcc_s ? dlsym(gcc_s, "_Unwind_GetIPInfo") : NULL;
  void *cfa = gcc_s ? dlsym(gcc_s, "_Unwind_GetCFA") : NULL;
  if (bt && ip && cfa) {
    *(void **)&gcc_backtrace = bt;
    *(void **)&gcc_get_ip_info = ip;
    *(void **)&gcc_get_cfa = cfa;
  }
  struct text_probe gcc = {(uintptr_t)gcc_backtrace, 0, 0};
  dl_iterate_phdr(find_text, &gcc);
  gcc_lo = gcc.lo;
  gcc_hi = gcc.hi;
}

bool tw_pc_in_unwinder(uintptr_t pc) {
  return (pc >= unw_lo && pc < unw_hi) || (pc >= gcc_lo && pc < gcc_hi);
}

/* fork() must not happen while an application thread is inside libunwind: libunwind's own mutexes
 * would stay locked in the child, whose first stack capture then hangs (seen: good/fork_work, a
 * thread capturing its read() wait while main forked). Captures pass a gate that the fork prepare
 * handler closes, then waits for the captures in flight to leave. The reporter's remote walks need
 * no gate: they run under the analysis lock, which the prepare handler takes too.
 *
 * Every wait here is bounded. A capture finding the gate closed waits at most
 * TW_UNWIND_GATE_WAIT_NS and then goes without a stack (an application atfork handler registered
 * before ours runs after our prepare, on another thread a capture could otherwise wait for a lock
 * that handler waits for). The fork waits at most as long for walks in flight; if one is still in
 * flight, the child makes no stack captures at all (libunwind may hold a lock of its own there). */
static _Atomic int unwinders, forking;
static _Atomic int captures_off; /* this process may have inherited a walk cut by a fork */

bool tw_unwind_enter(void) {
  tw_fork_check();
  uint64_t deadline = 0;
  for (;;) {
    if (tw_unlikely(tw_load_relaxed(&captures_off))) return false;
    if (tw_unlikely(atomic_load(&forking))) {
      uint64_t now = tw__now_ns();
      if (!deadline) deadline = now + TW_UNWIND_GATE_WAIT_NS;
      else if (now >= deadline) return false;
      sched_yield();
      continue;
    }
    atomic_fetch_add(&unwinders, 1);
    if (!atomic_load(&forking)) return true; /* seq_cst: the fork prepare sees us, or we see it */
    atomic_fetch_sub(&unwinders, 1);
  }
}

void tw_unwind_leave(void) { atomic_fetch_sub(&unwinders, 1); }

bool tw_unwind_fork_prepare(void) {
  atomic_store(&forking, 1);
  uint64_t deadline = tw__now_ns() + TW_UNWIND_GATE_WAIT_NS;
  while (atomic_load(&unwinders)) {
    if (tw__now_ns() >= deadline) return false;
    sched_yield();
  }
  return true;
}

bool tw_unwind_idle(void) { return atomic_load(&unwinders) == 0; }

void tw_unwind_fork_done(bool child, bool walks_done) {
  if (child) {
    atomic_store(&unwinders, 0); /* the other threads are gone */
    if (!walks_done) tw_store_relaxed(&captures_off, 1);
  }
  atomic_store(&forking, 0);
}

bool tw_stack_is_self(uintptr_t pc) { return tw_pc_is_self(pc); }

/* Whether this thread runs on a stack other than its own, an alternate signal stack (glibc's
 * SIGSTKSZ is 8 KiB here): a walk there (libunwind's context and cursor, a few KiB, on top of the
 * kernel's signal frame) may not fit, so none is made. Async-signal-safe: a comparison with the
 * bounds noted at thread start, and one sigaltstack() system call when they are unknown or the
 * stack is another one (a coroutine's). */
static bool on_foreign_stack(void) {
  const struct tw_tls *t = tw_tls();
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  if (tw_likely(t->stack_hi != 0 && sp > t->stack_lo && sp <= t->stack_hi)) return false;
  stack_t ss;
  return sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
}

/* A walk with libgcc's unwinder (_Unwind_Backtrace): no system call and no lock (glibc 2.35+
 * _dl_find_object finds the unwind tables; libgcc takes its one mutex only when a JIT registered
 * frames), and no per-thread memory (libunwind's unw_backtrace maps a 256 KiB cache in every
 * thread that walks, and its cursor walk masks signals twice per frame). About 0.5 us per frame:
 * the call-path cache in front of it makes repeated paths cost one compare per frame.
 * Frame i's stack pointer is the CFA of frame i - 1 (the frame it called), which is what
 * _Unwind_GetCFA says in the callback for frame i (libgcc reports a frame before stepping past
 * it). */
struct walk {
  uintptr_t pcs[TW_STACK_MAX_FRAMES];
  uint32_t off[TW_STACK_MAX_FRAMES];
  uintptr_t sp0;     /* the stack pointer of the first frame kept */
  uintptr_t above;   /* keep only frames whose stack pointer is above this (0: all) */
  int n;
  bool exact;        /* every frame kept is a plain call (offsets are usable for the cache) */
};

static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *p) {
  struct walk *w = p;
  int signal_frame = 0;
  uintptr_t ip = (uintptr_t)gcc_get_ip_info(ctx, &signal_frame);
  uintptr_t sp = (uintptr_t)gcc_get_cfa(ctx);
  if (ip == 0) return _URC_END_OF_STACK;
  if (tw_stack_is_self(ip) || sp == 0 || (w->above && sp <= w->above)) return _URC_NO_REASON;
  if (signal_frame) w->exact = false;
  if (w->n == 0 && !w->above) w->sp0 = sp;
  uintptr_t from = w->above ? w->above : w->sp0;
  if (sp < from || sp - from > UINT32_MAX) w->exact = false;
  w->off[w->n] = (uint32_t)(sp - from);
  w->pcs[w->n++] = ip;
  return w->n < TW_STACK_MAX_FRAMES ? _URC_NO_REASON : _URC_END_OF_STACK;
}

/* Walks the calling thread's stack into *w (not on an alternate signal stack, not while a fork
 * holds the gate: then *w stays empty). */
static void walk_here(struct walk *w) {
  if (on_foreign_stack() || !tw_unwind_enter()) return;
  gcc_backtrace(walk_frame, w);
  tw_unwind_leave();
}

uint32_t tw_stack_capture(void) {
  uintptr_t pc = 0, sp = 0, bp = 0;
  const struct tw_tls *t = tw_tls();
  bool site = tw_stack_site(&pc, &sp, &bp);
  if (site) {
    uint32_t id = tw_callsite_find_local(pc, sp, t->stack_lo, t->stack_hi);
    if (id) return id;
  }
  struct walk w = {.exact = true};
  walk_here(&w);
  /* Drop threadwatch's own frames wherever they are: the hooks on top, and the main() wrapper and
   * thread trampoline at the bottom (walk_frame skipped them). */
  uint32_t id = tw_depot_put(w.pcs, w.n);
  if (id && site && w.exact && w.pcs[0] == pc && w.sp0 == sp)
    tw_callsite_put(pc, id, w.pcs, w.off, w.n);
  return id;
}

uint32_t tw_stack_capture_earlier(uintptr_t pc, uintptr_t sp) {
  const struct tw_tls *t = tw_tls();
  uint32_t id = tw_callsite_find_local(pc, sp, t->stack_lo, t->stack_hi);
  if (id) return id;
  /* A frame whose stack pointer is at or below sp was not there when the earlier call was made
   * (it is the function that made it, now elsewhere, or something it called since). */
  struct walk w = {.above = sp, .exact = true, .n = 1};
  w.pcs[0] = pc;
  w.off[0] = 0;
  walk_here(&w);
  id = tw_depot_put(w.pcs, w.n);
  if (id && w.exact) tw_callsite_put(pc, id, w.pcs, w.off, w.n);
  return id;
}
