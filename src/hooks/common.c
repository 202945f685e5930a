/* What every blocking hook shares: publishing a wait state, and leaving it on cancellation. */
#include "control/reporter.h"
#include "hooks/hooks.h"

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
  /* The reporter watches blocked threads. fd waits do not start it: read/write may run in a signal
   * handler, where creating a thread is not safe; pipe()/eventfd() start it instead. */
  if (cls != TW_WC_FD) tw_reporter_ensure_started();
}

void tw__wait_cancel_cleanup(void *p) {
  /* Cancellation leaves every watched wait of the thread at once. */
  struct tw_thread *self = p;
  tw_tls()->in_wait = 0;
  if (self) tw_wait_end(self);
}
