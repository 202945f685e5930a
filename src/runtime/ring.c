/* SPSC ring: initialisation and the consumer's drain (the push is inline in ring.h). */
#include "runtime/ring.h"

#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Atomic uint32_t nudge_word; /* futex word: 1 once a producer asked for a drain */

void tw_ring_init(tw_ring_t *r, uint32_t slots) {
  tw_store_relaxed(&r->head, 0);
  tw_store_relaxed(&r->tail, 0);
  tw_store_relaxed(&r->dropped, 0);
  tw_store_relaxed(&r->next, NULL);
  r->mask = slots - 1;
}

uint64_t tw_ring_drain(tw_ring_t *r, void (*fn)(const struct tw_event *ev, void *ctx), void *ctx) {
  uint64_t tail = tw_load_relaxed(&r->tail);
  uint64_t head = tw_load_acquire(&r->head); /* partner: release store of head in tw_ring_push */
  for (uint64_t i = tail; i != head; i++) fn(&r->slot[i & r->mask], ctx);
  tw_store_release(&r->tail, head); /* partner: acquire load of tail in tw_ring_push */
  return head - tail;
}

void tw_ring_nudge(void) {
  if (atomic_exchange(&nudge_word, 1) == 0)
    syscall(SYS_futex, &nudge_word, (long)FUTEX_WAKE_PRIVATE, 1L, NULL, NULL, 0L);
}

void tw_ring_wait_nudge(uint64_t timeout_ns) {
  struct timespec ts = {(time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull)};
  if (tw_load_relaxed(&nudge_word) == 0)
    syscall(SYS_futex, &nudge_word, (long)FUTEX_WAIT_PRIVATE, 0L, &ts, NULL, 0L);
  tw_store_relaxed(&nudge_word, 0);
}
