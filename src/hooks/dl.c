/* dlclose: a module that is really unloaded takes its statically initialised locks with it (they
 * have no destroy call), and the next load at the same address brings new locks: the lock-order
 * facts of the old ones must go, or the new load inherits their orders (a false cycle).
 *
 * Before the real call, the module's writable segments are found (dlinfo, then dl_iterate_phdr);
 * after it, if the module is no longer listed (unloaded, not just a reference dropped, nor
 * RTLD_NODELETE), the lock generation is bumped (every edge cache and mutex memo misses from then
 * on) and a TW_EV_LOCK_RANGE_GONE event asks the reporter to forget every lock in that range, in
 * order with the other lock events. Cost: two walks of the loaded modules per dlclose (rare). */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "control/reporter.h"
#include "detect/dispatch.h"
#include "hooks/hooks.h"
#include "runtime/engine.h"
#include "runtime/event.h"

struct range_q {
  uintptr_t base;
  const char *name;
  uintptr_t lo, hi;
  bool found;
};

static int find_module(struct dl_phdr_info *info, size_t size, void *p) {
  (void)size;
  struct range_q *q = p;
  if (info->dlpi_addr != q->base || !info->dlpi_name || strcmp(info->dlpi_name, q->name) != 0)
    return 0;
  q->found = true;
  q->lo = UINTPTR_MAX;
  q->hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W)) continue; /* locks live in data */
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (lo < q->lo) q->lo = lo;
    if (hi > q->hi) q->hi = hi;
  }
  return 1;
}

TW_HOOK int dlclose(void *handle) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return TW_REAL_FN(dlclose)(handle);
  int saved = errno;
  struct link_map *lm = NULL;
  char name[512] = "";
  struct range_q q = {0};
  tw_guard_enter(t);
  if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && lm->l_name[0]) {
    snprintf(name, sizeof(name), "%s", lm->l_name);
    q.base = lm->l_addr;
    q.name = name;
    dl_iterate_phdr(find_module, &q);
  }
  tw_guard_leave(t);
  errno = saved;
  int r = TW_REAL_FN(dlclose)(handle);
  if (r != 0 || !q.found || q.hi <= q.lo) return r;
  saved = errno;
  tw_guard_enter(t);
  struct range_q again = {.base = q.base, .name = name};
  dl_iterate_phdr(find_module, &again);
  if (!again.found) {
    struct tw_thread *self = tw_self(t);
    tw_add_relaxed(&tw__lock_gen, 1); /* edge caches and mutex memos made before are stale */
    struct tw_event ev = {.type = TW_EV_LOCK_RANGE_GONE, .a = q.lo, .b = q.hi,
                          .aux32 = tw_add_relaxed(&tw__lock_seq, 1)};
    if (self) tw_ring_push_wait(self, &ev);
    if (!tw_engine_running()) tw_detect_drain_inline();
  }
  tw_guard_leave(t);
  errno = saved;
  return r;
}
