/* The application side of the misuse checks: send the misuse, then wait until it is reported (the
 * real call that follows may crash or hang, and nothing already seen may be lost). */
#include <errno.h>

#include "runtime/event.h"
#include "hooks/hooks.h"
#include "control/reporter.h"
#include "runtime/stackdepot.h"

/* Call sites already sent, by hash: a misuse repeated in a loop costs one probe after the first.
 * Lossy (a collision sends again; the reporter keeps the exact set). */
#define TW_MISUSE_SEEN_SLOTS 512u
static _Atomic uintptr_t seen[TW_MISUSE_SEEN_SLOTS];

static inline uintptr_t seen_key(enum tw_misuse what, uintptr_t pc) {
  return pc ^ ((uintptr_t)what << 56) ^ 1; /* never 0 */
}
static inline _Atomic uintptr_t *seen_slot(uintptr_t key) {
  return &seen[(key * 0x9E3779B97F4A7C15ull >> 40) & (TW_MISUSE_SEEN_SLOTS - 1)];
}

void tw__misuse(struct tw_tls *t, enum tw_misuse what, enum tw_mu_obj kind, uintptr_t obj,
                uint64_t other, uint32_t prev_stack, uint64_t prev_thread, uintptr_t pc,
                uintptr_t sp, uint32_t stack) {
  uintptr_t key = seen_key(what, pc);
  if (tw_load_relaxed(seen_slot(key)) == key) return;
  int saved = errno;
  struct tw_thread *self = tw_self(t);
  tw_guard_enter(t);
  if (self) {
    struct tw_event ev = {
        .type = TW_EV_MISUSE,
        .flags = (uint8_t)kind,
        .aux = (uint16_t)what,
        .a = obj,
        .b = other,
        .c = pc,
        .stack = stack ? stack : tw_stack_capture_earlier(pc, sp),
        .stack2 = prev_stack,
        .aux32 = (uint32_t)prev_thread,
    };
    tw_reporter_ensure_started();
    if (tw_ring_push_wait(self, &ev)) {
      tw_store_relaxed(seen_slot(key), key);
      tw_reporter_await();
    }
  }
  tw_guard_leave(t);
  errno = saved;
}

void tw__misuse_exit_holding(struct tw_tls *t) {
  uint32_t n = t->nheld;
  if (n == 0) return;
  uintptr_t site = t->held[0].pc;
  uintptr_t key = seen_key(TW_MU_EXIT_HOLDING_LOCKS, site);
  if (tw_load_relaxed(seen_slot(key)) == key) return;
  struct tw_thread *self = tw_self(t);
  if (!self) return;
  int saved = errno;
  tw_guard_enter(t);
  tw_reporter_ensure_started();
  bool sent = true;
  for (uint32_t i = n; i-- > 0;) { /* innermost first; index 0 (the outermost) ends the report */
    uintptr_t pc = t->held[i].pc;
    struct tw_event ev = {
        .type = TW_EV_MISUSE,
        .flags = (uint8_t)(t->held[i].mode == TW_HELD_MUTEX  ? TW_MO_MUTEX
                           : t->held[i].mode == TW_HELD_SPIN ? TW_MO_SPIN
                                                             : TW_MO_RWLOCK),
        .aux = TW_MU_EXIT_HOLDING_LOCKS,
        .a = t->held[i].lock,
        .b = i,
        .c = site,
        /* where it was taken: that frame has returned, so its return address is what is left */
        .stack = tw_depot_put(&pc, 1),
    };
    sent &= tw_ring_push_wait(self, &ev);
  }
  if (sent) {
    tw_store_relaxed(seen_slot(key), key);
    tw_reporter_await();
  }
  tw_guard_leave(t);
  errno = saved;
}

void tw__misuse_destroy_locked(struct tw_tls *t, enum tw_mu_obj kind, uintptr_t obj,
                               int holder_tid, uintptr_t pc, uintptr_t sp) {
  int saved = errno; /* the stack walk may set it */
  const struct tw_held *h = tw_held_find(t, obj, -1);
  if (h) {
    tw_guard_enter(t);
    uint32_t where = tw_stack_capture_earlier(h->pc, h->sp);
    tw_guard_leave(t);
    tw__misuse(t, TW_MU_DESTROY_LOCKED, kind, obj, 0, where, t->self ? t->self->id : 0, pc, sp, 0);
  } else {
    tw__misuse(t, TW_MU_DESTROY_LOCKED, kind, obj, (uint64_t)holder_tid, 0, 0, pc, sp, 0);
  }
  errno = saved;
}
