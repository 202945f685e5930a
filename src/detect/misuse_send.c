/* The sending side of exit-holding-locks, shared by the thread-exit destructor (hooks/) and the
 * process exit path (control/): one TW_EV_MISUSE event per lock the thread still holds. */
#include "detect/misuse.h"

#include <pthread.h>

#include "runtime/ring.h"
#include "runtime/stackdepot.h"
#include "runtime/unwind_other.h"

/* Whether held entry h is really held still, as glibc's lock word says: another thread may have
 * unlocked it (unlock-not-owner, rwlock-unlock-not-held: reported then) or freed it. Read without
 * trusting the memory is mapped. */
static bool still_held(const struct tw_held *h, int32_t tid) {
  if (h->mode == TW_HELD_MUTEX) {
    int owner = 0;
    return tw_peek(&((pthread_mutex_t *)h->lock)->__data.__owner, &owner, sizeof(owner)) != 0 ||
           owner == tid;
  }
  if (h->mode == TW_HELD_SPIN) { /* x86-64 glibc: a word of 0 or less is taken (hooks/spin.c) */
    int word = 0;
    return tw_peek((const void *)h->lock, &word, sizeof(word)) != 0 || word <= 0;
  }
  pthread_rwlock_t *l = (pthread_rwlock_t *)h->lock;
  if (h->mode == TW_HELD_WRITE) {
    int writer = 0;
    return tw_peek(&l->__data.__cur_writer, &writer, sizeof(writer)) != 0 || writer == tid;
  }
  unsigned readers = 0;
  return tw_peek(&l->__data.__readers, &readers, sizeof(readers)) != 0 || (readers >> 3) != 0;
}

/* Robust mutexes are left out: a thread that ends holding one is what they are for (the next
 * locker gets EOWNERDEAD and makes the data consistent). */
static bool counts(const struct tw_held *h, int32_t tid) {
  return !(h->plain & TW_HELD_ROBUST) && still_held(h, tid);
}

int tw_misuse_push_exit_holding(struct tw_tls *t, struct tw_thread *self, bool ends_process) {
  int32_t tid = tw_load_relaxed(&self->tid);
  uint32_t n = 0;
  for (uint32_t i = 0; i < t->nheld; i++) n += counts(&t->held[i], tid);
  if (n == 0) return 0;
  uintptr_t site = 0;
  for (uint32_t i = 0; i < t->nheld && !site; i++)
    if (counts(&t->held[i], tid)) site = t->held[i].pc;
  bool sent = true;
  uint32_t index = n;
  for (uint32_t i = t->nheld; i-- > 0;) { /* innermost first; index 0 (the outermost) ends it */
    if (!counts(&t->held[i], tid)) continue;
    uintptr_t pc = t->held[i].pc;
    struct tw_event ev = {
        .type = TW_EV_MISUSE,
        .flags = (uint8_t)((t->held[i].mode == TW_HELD_MUTEX  ? TW_MO_MUTEX
                            : t->held[i].mode == TW_HELD_SPIN ? TW_MO_SPIN
                                                              : TW_MO_RWLOCK) |
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
