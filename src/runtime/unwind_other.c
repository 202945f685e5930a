/* The stack of another thread of this process, stopped in a system call that threadwatch does not
 * watch (a lock holder asleep in nanosleep, poll, accept...). No signal is sent (a signal would make
 * such calls return EINTR: the program would behave differently). Instead the kernel tells where the
 * thread is (/proc/self/task/TID/syscall: its stack pointer and pc), and libunwind walks the stack
 * through an address space whose every memory read goes through process_vm_readv: the thread may
 * return from its call at any moment and rewrite its stack, and a read of a stale pointer must fail
 * cleanly instead of faulting. A stack read while the thread moved is thrown away. */
#include "runtime/unwind_other.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <libunwind.h> /* the generic (remote-capable) flavour: no UNW_LOCAL_ONLY here */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/limits.h"
#include "runtime/callsite.h"
#include "runtime/stackdepot.h"

struct target {
  unw_word_t sp, pc, bp;
};

int tw_peek(const void *addr, void *out, size_t len) {
  struct iovec local = {out, len}, remote = {(void *)addr, len};
  /* Every argument as a long: syscall() reads six longs, and an int passed in the stack slot of the
   * sixth (flags) may leave garbage in its upper half (clang -O0 does): EINVAL, and no remote walk
   * ever got past its first frame in that build. */
  ssize_t r = syscall(SYS_process_vm_readv, (long)getpid(), &local, 1L, &remote, 1L, 0L);
  if (r == (ssize_t)len) return 0;
  return r < 0 ? -errno : -EFAULT;
}

static int acc_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg) {
  (void)as;
  (void)arg;
  if (write) return -UNW_EINVAL;
  return tw_peek((const void *)addr, val, sizeof(*val)) == 0 ? 0 : -UNW_EINVAL;
}

/* Only the stack pointer and pc are known; the other registers read as 0, so frames whose CFA needs
 * one of them (rbp-based frames whose rbp was not saved below) end the walk. */
static int acc_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg) {
  (void)as;
  const struct target *t = arg;
  if (write) return -UNW_EREADONLYREG;
  if (reg == UNW_X86_64_RIP) *val = t->pc;
  else if (reg == UNW_X86_64_RSP) *val = t->sp;
  else if (reg == UNW_X86_64_RBP) *val = t->bp;
  else if (reg >= 0 && reg < UNW_X86_64_RIP) *val = 0;
  else return -UNW_EBADREG;
  return 0;
}

static int acc_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg) {
  (void)as, (void)reg, (void)val, (void)write, (void)arg;
  return -UNW_EBADREG;
}

static int no_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg) {
  (void)as, (void)c, (void)arg;
  return -UNW_EINVAL;
}

static unw_addr_space_t space;

static unw_addr_space_t address_space(void) {
  if (space) return space;
  /* Unwind tables are found the way local unwinding finds them (dl_iterate_phdr over our own
   * objects); only the memory and register accessors differ. */
  unw_accessors_t acc = *unw_get_accessors(unw_local_addr_space);
  acc.access_mem = acc_mem;
  acc.access_reg = acc_reg;
  acc.access_fpreg = acc_fpreg;
  acc.resume = no_resume;
  space = unw_create_addr_space(&acc, 0);
  if (space) unw_set_caching_policy(space, UNW_CACHE_NONE);
  return space;
}

/* Whether pc is in threadwatch's own module. */
static const char tw_anchor; /* any object of ours: its module is ours */
static bool ours(uintptr_t pc) {
  static void *base;
  Dl_info self, at;
  if (!base && dladdr(&tw_anchor, &self)) base = self.dli_fbase;
  return base && dladdr((void *)pc, &at) && at.dli_fbase == base;
}

/* Where the thread is stopped in a system call: 0 and sp/pc, or -1 (running, gone, unreadable). */
static int where_stopped(int tid, long *nr, unw_word_t *sp, unw_word_t *pc) {
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  bool got = fgets(buf, sizeof(buf), f) != NULL;
  fclose(f);
  if (!got || strncmp(buf, "running", 7) == 0) return -1;
  unsigned long a[6], s = 0, p = 0;
  if (sscanf(buf, "%ld %lx %lx %lx %lx %lx %lx %lx %lx", nr, &a[0], &a[1], &a[2], &a[3], &a[4],
             &a[5], &s, &p) != 9)
    return -1;
  *sp = s;
  *pc = p;
  return s && p ? 0 : -1;
}

uint32_t tw_unwind_other(int tid, long *syscall_nr) {
  struct target t = {0};
  long nr = -1;
  *syscall_nr = -1;
  if (where_stopped(tid, &nr, &t.sp, &t.pc) != 0) return 0;
  *syscall_nr = nr;
  unw_addr_space_t as = address_space();
  if (!as) return 0;
  unw_cursor_t c;
  if (unw_init_remote(&c, as, &t) < 0) return 0;
  uintptr_t pcs[TW_STACK_MAX_FRAMES];
  int n = 0;
  do {
    unw_word_t ip = 0;
    if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0) break;
    if (!ours((uintptr_t)ip)) pcs[n++] = (uintptr_t)ip; /* our frames (main's wrapper) are not shown */
  } while (n < TW_STACK_MAX_FRAMES && unw_step(&c) > 0);
  /* Still in the same call at the same place? Otherwise what was read may be half old, half new. */
  long nr2;
  struct target again;
  if (where_stopped(tid, &nr2, &again.sp, &again.pc) != 0 || nr2 != nr || again.sp != t.sp ||
      again.pc != t.pc)
    return 0;
  return n ? tw_depot_put(pcs, n) : 0;
}

uint32_t tw_unwind_site(uintptr_t pc, uintptr_t sp, uintptr_t bp) {
  if (!pc || !sp) return 0;
  uint32_t id = tw_callsite_find_remote(pc, sp);
  if (id) return id;
  struct target t = {.sp = sp, .pc = pc, .bp = bp};
  unw_addr_space_t as = address_space();
  if (!as) return 0;
  unw_cursor_t c;
  if (unw_init_remote(&c, as, &t) < 0) return 0;
  uintptr_t pcs[TW_STACK_MAX_FRAMES];
  uint32_t off[TW_STACK_MAX_FRAMES];
  int n = 0;
  do {
    unw_word_t ip = 0, fsp = 0;
    if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0) break;
    if (unw_get_reg(&c, UNW_REG_SP, &fsp) < 0 || fsp < sp || fsp - sp > UINT32_MAX) break;
    if (ours((uintptr_t)ip)) continue; /* main's wrapper, the thread trampoline */
    off[n] = (uint32_t)(fsp - sp);
    pcs[n++] = (uintptr_t)ip;
  } while (n < TW_STACK_MAX_FRAMES && unw_step(&c) > 0);
  if (n == 0 || pcs[0] != pc) return 0;
  /* The walk read the stack word by word while the thread may have moved on: what it found must
   * still be there, read again in one piece (the way the cache checks a path). */
  for (int i = 1; i < n; i++) {
    uintptr_t ra = 0;
    if (off[i] < sizeof(ra) ||
        tw_peek((const void *)(sp + off[i] - sizeof(ra)), &ra, sizeof(ra)) != 0 || ra != pcs[i])
      return 0;
  }
  id = tw_depot_put(pcs, n);
  if (off[n - 1] <= TW_CALLSITE_REMOTE_SPAN) tw_callsite_put(pc, id, pcs, off, n);
  return id;
}
