/* The sending side of exit-holding-locks, shared by the thread-exit destructor (hooks/) and the
 * process exit path (control/): one TW_EV_MISUSE event per lock the thread still holds. */
#include "detect/misuse.h"

#include "runtime/ring.h"
#include "runtime/stackdepot.h"

int tw_misuse_push_exit_holding(struct tw_tls *t, struct tw_thread *self, bool ends_process) {
  /* Robust mutexes are left out: a thread that ends holding one is what they are for (the next
   * locker gets EOWNERDEAD and makes the data consistent). */
  uint32_t n = 0;
  for (uint32_t i = 0; i < t->nheld; i++) n += t->held[i].plain != TW_HELD_ROBUST;
  if (n == 0) return 0;
  uintptr_t site = 0;
  for (uint32_t i = 0; i < t->nheld && !site; i++)
    if (t->held[i].plain != TW_HELD_ROBUST) site = t->held[i].pc;
  bool sent = true;
  uint32_t index = n;
  for (uint32_t i = t->nheld; i-- > 0;) { /* innermost first; index 0 (the outermost) ends it */
    if (t->held[i].plain == TW_HELD_ROBUST) continue;
    uintptr_t pc = t->held[i].pc;
    struct tw_event ev = {
        .type = TW_EV_MISUSE,
        .flags = (uint8_t)((t->held[i].mode == TW_HELD_MUTEX ? TW_MO_MUTEX : TW_MO_RWLOCK) |
                           (ends_process ? TW_MO_ENDS_PROCESS : 0)),
        .aux = TW_MU_EXIT_HOLDING_LOCKS,
        .a = t->held[i].lock,
        .b = --index,
        .c = site,
        /* where it was taken: that frame has returned, so its return address is what is left */
        .stack = tw_depot_put(&pc, 1),
    };
    sent &= tw_ring_push_wait(self, &ev);
  }
  return sent ? 1 : -1;
}
