/* The wipe-on-fork mark (fork.h). */
#include "runtime/fork.h"

#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18 /* Linux 4.14 */
#endif

_Atomic uint64_t *_Atomic tw__fork_mark;
static _Atomic pid_t own_pid; /* the process whose tool state this memory holds */
static void (*reset_fn)(bool consistent);
static _Atomic int resetting;

void tw_fork_mark_init(void) {
  if (tw_load_relaxed(&tw__fork_mark)) return;
  long page = sysconf(_SC_PAGESIZE);
  void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  if (madvise(p, (size_t)page, MADV_WIPEONFORK) != 0) { /* an old kernel: no mark at all */
    munmap(p, (size_t)page);
    return;
  }
  _Atomic uint64_t *m = p;
  tw_store_relaxed(&own_pid, getpid());
  tw_store_relaxed(m, 1);
  tw_store_release(&tw__fork_mark, m);
}

void tw_fork_set_reset(void (*reset)(bool consistent)) { reset_fn = reset; }

void tw_fork_mark_set(void) {
  _Atomic uint64_t *m = tw_load_relaxed(&tw__fork_mark);
  tw_store_relaxed(&own_pid, getpid());
  if (m) tw_store_release(m, 1);
}

bool tw_fork_in_shared_child(void) {
  tw_fork_check();
  pid_t own = tw_load_relaxed(&own_pid);
  return own != 0 && getpid() != own;
}

void tw__fork_detected(void) {
  /* A copied child has one thread, which is here; the exchange only keeps a reset that calls back
   * into a check from running twice. */
  if (atomic_exchange(&resetting, 1)) return;
  if (reset_fn) reset_fn(false);
  tw_fork_mark_set();
  tw_store_relaxed(&resetting, 0);
}
