/* The call-path cache (callsite.h): a fixed, lazily mapped table shared by every thread. Each entry
 * is a sequence lock (odd while one writer fills it; readers that see it change retry nothing, they
 * miss), so a signal handler interrupting a writer on its own thread only misses. */
#include "runtime/callsite.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "base/atomic.h"
#include "base/limits.h"
#include "base/tw.h"
#include "runtime/stackdepot.h"
#include "runtime/unwind_other.h"

#define SETS 256u /* a power of two */
#define WAYS 4u   /* paths to the same pc0 (a helper called from several places) */

struct entry {
  _Atomic uint32_t seq;
  _Atomic uint32_t stack; /* depot id; 0: empty */
  _Atomic uintptr_t pc0;
  _Atomic uint32_t n;     /* frames */
  _Atomic uint32_t span;  /* off[n - 1]: bytes above sp0 a check reads */
  _Atomic uint32_t off[TW_STACK_MAX_FRAMES];
};

static struct entry *_Atomic table;
static _Atomic uint32_t victim;

static struct entry *get_table(bool create) {
  struct entry *t = tw_load_acquire(&table); /* partner: the release CAS below */
  if (tw_likely(t != NULL) || !create) return t;
  void *m = mmap(NULL, sizeof(struct entry) * SETS * WAYS, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  struct entry *expected = NULL;
  if (!atomic_compare_exchange_strong(&table, &expected, (struct entry *)m)) {
    munmap(m, sizeof(struct entry) * SETS * WAYS); /* another thread won */
    return expected;
  }
  return (struct entry *)m;
}

static struct entry *set_of(struct entry *t, uintptr_t pc0) {
  uint64_t h = (uint64_t)pc0 * 0x9E3779B97F4A7C15ull;
  return &t[((h >> 40) & (SETS - 1)) * WAYS];
}

/* The frames of entry e match the return addresses in mem (the bytes [sp0, sp0 + len)). */
static uint32_t check(const struct entry *e, uintptr_t pc0, const unsigned char *mem, size_t len) {
  /* partner: the release store of seq in tw_callsite_put */
  uint32_t s1 = tw_load_acquire(&((struct entry *)e)->seq);
  if (s1 & 1) return 0;
  uint32_t stack = tw_load_relaxed(&((struct entry *)e)->stack);
  uint32_t n = tw_load_relaxed(&((struct entry *)e)->n);
  if (!stack || tw_load_relaxed(&((struct entry *)e)->pc0) != pc0 || n > TW_STACK_MAX_FRAMES)
    return 0;
  const uintptr_t *pcs;
  if (tw_depot_get(stack, &pcs) != (int)n) return 0;
  for (uint32_t i = 1; i < n; i++) {
    uint32_t off = tw_load_relaxed(&((struct entry *)e)->off[i]);
    if (off < sizeof(uintptr_t) || off > len) return 0;
    uintptr_t ra;
    __builtin_memcpy(&ra, mem + off - sizeof(uintptr_t), sizeof(ra));
    if (ra != pcs[i]) return 0;
  }
  tw_fence_acquire(); /* partner: the release fence in tw_callsite_put */
  return tw_load_relaxed(&((struct entry *)e)->seq) == s1 ? stack : 0;
}

uint32_t tw_callsite_find_local(uintptr_t pc0, uintptr_t sp0, uintptr_t stack_lo,
                                uintptr_t stack_hi) {
  struct entry *t = get_table(false);
  if (!t || !pc0 || !stack_hi || sp0 <= stack_lo || sp0 >= stack_hi) return 0;
  struct entry *set = set_of(t, pc0);
  for (uint32_t w = 0; w < WAYS; w++) {
    uint32_t span = tw_load_relaxed(&set[w].span);
    if (span > stack_hi - sp0) continue; /* deeper than this stack: never read past its top */
    uint32_t id = check(&set[w], pc0, (const unsigned char *)sp0, span);
    if (id) return id;
  }
  return 0;
}

uint32_t tw_callsite_find_remote(uintptr_t pc0, uintptr_t sp0) {
  struct entry *t = get_table(false);
  if (!t || !pc0 || !sp0) return 0;
  struct entry *set = set_of(t, pc0);
  uint32_t span = 0;
  for (uint32_t w = 0; w < WAYS; w++) {
    uint32_t s = tw_load_relaxed(&set[w].span);
    if (tw_load_relaxed(&set[w].pc0) == pc0 && s <= TW_CALLSITE_REMOTE_SPAN && s > span) span = s;
  }
  if (!span) return 0;
  unsigned char *mem = malloc(span);
  if (!mem) return 0;
  uint32_t id = 0;
  /* One read of the whole region; a stack that ends before span (a shallower thread) fails it,
   * then each entry is tried with what its own span needs. */
  bool whole = tw_peek((const void *)sp0, mem, span) == 0;
  for (uint32_t w = 0; w < WAYS && !id; w++) {
    uint32_t s = tw_load_relaxed(&set[w].span);
    if (tw_load_relaxed(&set[w].pc0) != pc0 || s > span) continue;
    if (!whole && tw_peek((const void *)sp0, mem, s) != 0) continue;
    id = check(&set[w], pc0, mem, s);
  }
  free(mem);
  return id;
}

void tw_callsite_put(uintptr_t pc0, uint32_t stack, const uintptr_t *pcs, const uint32_t *off,
                     int n) {
  if (!stack || n <= 0 || n > TW_STACK_MAX_FRAMES || pcs[0] != pc0) return;
  for (int i = 1; i < n; i++) /* offsets grow outwards; anything else is not a plain call chain */
    if (off[i] < sizeof(uintptr_t) || off[i] <= off[i - 1]) return;
  struct entry *t = get_table(true);
  if (!t) return;
  struct entry *set = set_of(t, pc0);
  for (uint32_t w = 0; w < WAYS; w++) /* already there (two threads filled it at once) */
    if (tw_load_relaxed(&set[w].stack) == stack && tw_load_relaxed(&set[w].pc0) == pc0) return;
  struct entry *e = &set[tw_add_relaxed(&victim, 1) % WAYS];
  uint32_t s = tw_load_relaxed(&e->seq);
  if ((s & 1) || !atomic_compare_exchange_strong(&e->seq, &s, s + 1)) return; /* being written */
  tw_fence_release(); /* partner: the acquire fence in check() */
  tw_store_relaxed(&e->stack, stack);
  tw_store_relaxed(&e->pc0, pc0);
  tw_store_relaxed(&e->n, (uint32_t)n);
  tw_store_relaxed(&e->span, n > 1 ? off[n - 1] : 0);
  for (int i = 0; i < n; i++) tw_store_relaxed(&e->off[i], i ? off[i] : 0);
  tw_store_release(&e->seq, s + 2); /* partner: the acquire load in check() */
}
