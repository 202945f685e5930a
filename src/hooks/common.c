/* What every blocking hook shares: publishing a wait state, leaving it on cancellation, and the
 * feeding facts of semaphores and futex words. */
#include "control/reporter.h"
#include "detect/dispatch.h"
#include "hooks/hooks.h"
#include "runtime/contention.h"
#include "runtime/engine.h"
#include "runtime/ring.h"
#include "runtime/stackdepot.h"

void tw__wait_publish(struct tw_tls *t, struct tw_thread *self, enum tw_call call, uintptr_t obj,
                      uintptr_t obj2, int fd, uint32_t aux_stack, uintptr_t site_pc,
                      uintptr_t site_sp, uintptr_t site_bp) {
  struct tw_wait_snap w; /* only what tw_wait_begin reads is set (this runs on every wait) */
  w.call = call;
  w.fd = fd;
  w.obj = obj;
  w.obj2 = obj2;
  w.aux_stack = aux_stack;
  w.site_pc = site_pc;
  w.site_sp = site_sp;
  w.site_bp = site_bp;
  w.nheld = 0;
  enum tw_wait_class cls = tw_call_class(call);
  bool cond = cls == TW_WC_COND;
  /* The innermost locks first: they are the likeliest to matter to a wait that just began. */
  for (uint32_t i = t->nheld; i-- > 0 && w.nheld < TW_WAIT_HELD;) {
    if (cond && t->held[i].lock == obj2) continue; /* released for the duration of the wait */
    w.held[w.nheld] = t->held[i].lock;
    w.held_mode[w.nheld++] = (uint8_t)t->held[i].mode;
  }
  tw_wait_begin(self, &w);
  if (tw_unlikely(tw_profile_on())) tw__profile_wait_begin(t, self, call);
  /* The reporter watches blocked threads. fd, socket, poll and sleep waits do not start it: those
   * calls may run in a signal handler, where creating a thread is not safe; pipe(), eventfd(),
   * socketpair() and epoll_create() start it instead (a sleep never needs it). */
  if (cls != TW_WC_FD && cls != TW_WC_SOCK && cls != TW_WC_POLL && cls != TW_WC_SLEEP)
    tw_reporter_ensure_started();
}

void tw__wait_cancel_cleanup(void *p) {
  /* Cancellation leaves every watched wait of the thread at once. */
  struct tw_thread *self = p;
  struct tw_tls *t = tw_tls();
  t->in_wait = 0;
  if (t->prof_weight) tw__profile_wait_abandon(t); /* a cancelled wait is not recorded */
  if (self) tw_wait_end(self);
}

void tw__feed_slow(struct tw_tls *t, uintptr_t obj, unsigned kind) {
  int saved = errno;
  struct tw_thread *self = tw_self(t);
  tw_ring_t *r = self ? tw__ring_of(self) : NULL;
  /* Not tw_ring_push_wait: this may run in a signal handler. A fact that finds the ring full is
   * sent again by the next post (it is not memoised). */
  struct tw_event ev = {.type = TW_EV_FEED, .aux = (uint16_t)kind, .a = obj,
                        .aux32 = tw_add_relaxed(&tw__lock_seq, 1)};
  if (r && tw_ring_push(r, &ev)) {
    uint32_t gen = tw_load_relaxed(&tw__feed_gen);
    if (t->fed_gen != gen) {
      t->fed[0] = t->fed[1] = t->fed[2] = t->fed[3] = 0;
      t->fed_gen = gen;
    }
    t->fed[t->fed_next++ & 3] = obj;
  }
  errno = saved;
}

void tw__feed_reset(struct tw_tls *t, uintptr_t obj) {
  int saved = errno;
  struct tw_thread *self = tw_self(t);
  tw_add_relaxed(&tw__feed_gen, 1);
  if (self) {
    tw_guard_enter(t);
    struct tw_event ev = {.type = TW_EV_FEED_RESET, .a = obj,
                          .aux32 = tw_add_relaxed(&tw__lock_seq, 1)};
    tw_ring_push_wait(self, &ev);
    if (!tw_engine_running()) tw_detect_drain_inline();
    tw_guard_leave(t);
  }
  errno = saved;
}
