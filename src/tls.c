/* Per-thread hook state: the TLS block, lazy adoption of threads we did not create, held-lock stack. */
#include "tls.h"

#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "init.h"
#include "reporter.h"
#include "ring.h"
#include "waits.h"

__thread struct tw_tls tw__tls __attribute__((tls_model("initial-exec")));

struct tw_thread *tw__self_slow(struct tw_tls *t) {
  if (t->gone) return NULL;
  tw_guard_enter(t);
  tw__ensure_init();
  if (!t->self) {
    t->self = tw_registry_adopt();
    if (t->self) tw__thread_attach(t->self);
  }
  tw_guard_leave(t);
  return t->self;
}

void tw__held_grow(struct tw_tls *t) {
  if (t->held == NULL) {
    t->held = t->inline_held;
    t->cap = TW_HELD_INLINE;
    if (t->nheld < t->cap) return;
  }
  uint32_t cap = t->cap * 2;
  struct tw_held *h = malloc(sizeof(*h) * cap);
  tw_check(h != NULL);
  memcpy(h, t->held, sizeof(*h) * t->nheld);
  if (t->held != t->inline_held) free(t->held);
  t->held = h;
  t->cap = cap;
}

bool tw_held_pop(struct tw_tls *t, uintptr_t lock) {
  for (uint32_t i = t->nheld; i-- > 0;) {
    if (t->held[i].lock != lock) continue;
    if (--t->held[i].count == 0) {
      memmove(&t->held[i], &t->held[i + 1], sizeof(t->held[0]) * (t->nheld - i - 1));
      t->nheld--;
      uint64_t sig = i ? t->held[i - 1].sig : 0; /* the entries above lost this lock */
      for (uint32_t k = i; k < t->nheld; k++)
        t->held[k].sig = sig += tw_held_hash(t->held[k].lock, t->held[k].mode);
    }
    return true;
  }
  return false;
}

void tw__wait_publish(struct tw_tls *t, struct tw_thread *self, enum tw_call call, uintptr_t obj,
                      uintptr_t obj2, int fd, uint32_t aux_stack) {
  struct tw_wait_snap w = {.call = call, .fd = fd, .obj = obj, .obj2 = obj2, .aux_stack = aux_stack};
  bool cond = tw_call_class(call) == TW_WC_COND;
  /* The innermost locks first: they are the likeliest to matter to a wait that just began. */
  for (uint32_t i = t->nheld; i-- > 0 && w.nheld < TW_WAIT_HELD;) {
    if (cond && t->held[i].lock == obj2) continue; /* released for the duration of the wait */
    w.held[w.nheld] = t->held[i].lock;
    w.held_mode[w.nheld++] = (uint8_t)t->held[i].mode;
  }
  tw_wait_begin(self, &w);
  /* The reporter watches blocked threads. fd waits do not start it: read/write may run in a signal
   * handler, where creating a thread is not safe; pipe()/eventfd() start it instead. */
  if (tw_call_class(call) != TW_WC_FD) tw_reporter_ensure_started();
}

/* Wakes the reporter and gives it up to TW_SELF_RELOCK_WAIT_NS to drain every ring and run one
 * whole scan after this call: then what this thread sent or published is reported. The wait is a
 * raw futex, not a cancellation point (pthread_mutex_lock is not one either). */
void tw__await_reporter(void) {
  uint32_t seen = tw_load_acquire(&tw__scans_done);
  uint64_t deadline = tw__now_ns() + TW_SELF_RELOCK_WAIT_NS;
  tw_ring_nudge();
  for (uint64_t now = tw__now_ns(); now < deadline; now = tw__now_ns()) {
    uint32_t cur = tw_load_acquire(&tw__scans_done);
    if (cur - seen >= 2) return; /* a whole scan ran after the wait was published */
    uint64_t left = deadline - now;
    struct timespec ts = {(time_t)(left / 1000000000ull), (long)(left % 1000000000ull)};
    syscall(SYS_futex, &tw__scans_done, FUTEX_WAIT_PRIVATE, cur, &ts, NULL, 0);
  }
}
