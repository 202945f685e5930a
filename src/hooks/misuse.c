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
  if (t->nheld == 0) return;
  uintptr_t key = seen_key(TW_MU_EXIT_HOLDING_LOCKS, t->held[0].pc);
  if (tw_load_relaxed(seen_slot(key)) == key) return;
  struct tw_thread *self = tw_self(t);
  if (!self) return;
  int saved = errno;
  tw_guard_enter(t);
  tw_reporter_ensure_started();
  if (tw_misuse_push_exit_holding(t, self, false) > 0) {
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

void tw__call_result(struct tw_tls *t, enum tw_call call, enum tw_mu_obj kind, uintptr_t obj, int r,
                     const struct timespec *ts, uintptr_t pc, uintptr_t sp) {
  if (tw_result_expected(r) || TW_BYPASS(t)) return;
  int saved = errno;
  if (r == EDEADLK) {
    const struct tw_held *h = tw_held_find(t, obj, -1);
    uint32_t first = 0;
    if (h) {
      tw_guard_enter(t);
      first = tw_stack_capture_earlier(h->pc, h->sp);
      tw_guard_leave(t);
    }
    tw__misuse(t, TW_MU_SELF_RELOCK, kind, obj, 0, first, first && t->self ? t->self->id : 0, pc,
               sp, 0);
  } else {
    bool bad_ts = ts && (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L);
    tw__misuse(t, TW_MU_CALL_FAILED, kind, obj, TW_CALL_FAILED_PACK(call, r, bad_ts), 0, 0, pc, sp,
               0);
  }
  errno = saved;
}
