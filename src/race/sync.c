/* Race watching, the hook side: the happens-before points the hooks call (race/hook.h). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>

#include "base/limits.h"
#include "base/tw.h"
#include "race/hb.h"
#include "race/hook.h"
#include "race/trap.h"
#include "runtime/fdtrack.h"
#include "runtime/tls.h"

int tw__race_on;

/* ---------------------------------------------------------------------------------------------
 * The hook side
 */

/* The application replaced our SIGTRAP handler: its handler would now get our traps. Checked at
 * most every 100 ms from the hooks' slow paths (there is no sigaction hook). */
static _Atomic uint64_t next_handler_check;

static void check_handler(void) {
  if (tw__race_backend != BK_HW) return;
  uint64_t now = tw__now_ns();
  if (now < tw_load_relaxed(&next_handler_check)) return;
  tw_store_relaxed(&next_handler_check, now + 100 * 1000 * 1000);
  struct sigaction cur;
  if (sigaction(SIGTRAP, NULL, &cur) != 0 || cur.sa_sigaction == tw__race_on_sigtrap) return;
  tw__race_watch_lock();
  for (int i = 0; i < TW_RACE_DEBUG_REGS; i++) tw__race_disarm_piece(i);
  tw__race_update_active();
  tw__race_backend = BK_OFF;
  tw__race_off_errno = EBUSY;
  tw__race_watch_unlock();
  tw__race_log_line("race watching is off from now on: the application installed its own SIGTRAP handler "
           "(watchpoints removed)");
}

void tw__race_sync(enum tw_race_op op, uintptr_t obj, uintptr_t obj2) {
  struct tw_tls *t = tw_tls();
  /* Thread start and exit are called from tool code; everything else comes from the application. */
  bool lifecycle = op == TW_RACE_STARTED || op == TW_RACE_EXITING;
  if (!lifecycle && (t->guard || t->gone)) return;
  if (tw__race_tls.exited) return;
  int saved = errno;
  t->guard++;
  int slot = tw__race_my_slot();
  switch (op) {
    case TW_RACE_LOCKED: tw_hb_acquire(slot, obj, true); break;
    case TW_RACE_RDLOCKED: tw_hb_acquire(slot, obj, false); break;
    case TW_RACE_UNLOCKING: {
      const struct tw_held *h = tw_held_find(t, obj, -1);
      tw_hb_release(slot, obj, h && h->mode == TW_HELD_READ);
      break;
    }
    case TW_RACE_SIGNALLING: tw_hb_release(slot, obj, false); break;
    case TW_RACE_WAITING: tw_hb_release(slot, obj2, false); break;
    case TW_RACE_WOKEN:
      tw_hb_acquire(slot, obj2, true);
      tw_hb_acquire(slot, obj, false);
      break;
    case TW_RACE_FD_WRITING:
    case TW_RACE_FD_READ: {
      int fd = (int)obj;
      uint32_t o = (unsigned)fd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdobj[fd]) : 0;
      if (!o) break;
      if (op == TW_RACE_FD_WRITING) tw_hb_release(slot, TW_HB_KEY_FD | o, false);
      else tw_hb_acquire(slot, TW_HB_KEY_FD | o, false);
      break;
    }
    case TW_RACE_CREATING:
      tw_hb_forget(TW_HB_KEY_EXIT | obj); /* a record reused: its old end is not this thread's */
      tw_hb_release(slot, TW_HB_KEY_START | obj, false);
      break;
    case TW_RACE_STARTED:
      tw_hb_acquire(slot, TW_HB_KEY_START | obj, false);
      tw_hb_forget(TW_HB_KEY_START | obj);
      break;
    case TW_RACE_EXITING:
      tw_hb_release(slot, TW_HB_KEY_EXIT | obj, false);
      tw__race_flush_pending(t);
      tw__race_tls.exited = 1; /* later traps (other TSD destructors) are not analysed: the slot goes */
      tw__race_tls.slot = 0;
      tw_hb_slot_release(slot);
      break;
    case TW_RACE_JOINED:
      tw_hb_acquire(slot, TW_HB_KEY_EXIT | obj, false);
      tw_hb_forget(TW_HB_KEY_EXIT | obj);
      break;
    case TW_RACE_DESTROYED: tw_hb_forget(obj); break;
  }
  if (op != TW_RACE_EXITING) tw__race_flush_pending(t);
  check_handler();
  t->guard--;
  errno = saved;
}
