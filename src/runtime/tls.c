/* Per-thread hook state: the TLS block and the held-lock stack (adoption is hooks/thread.c). */
#include "runtime/tls.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/unwind_other.h"

__thread struct tw_tls tw__tls __attribute__((tls_model("initial-exec")));
_Atomic uint32_t tw__coarse_tick;

uint32_t tw_held_read_other(uintptr_t tls, struct tw_held *out, uint32_t max) {
  const struct tw_tls *other = (const struct tw_tls *)tls;
  uint32_t n = 0;
  struct tw_held *held = NULL;
  if (!tls || tw_peek(&other->nheld, &n, sizeof(n)) != 0 ||
      tw_peek(&other->held, &held, sizeof(held)) != 0 || !held || n == 0)
    return 0;
  uint32_t take = n < max ? n : max;
  if (tw_peek(held, out, sizeof(*out) * take) != 0) return 0;
  return n;
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


void tw_tls_note_stack(struct tw_tls *t) {
  pthread_attr_t a;
  void *addr = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &a) != 0) return;
  if (pthread_attr_getstack(&a, &addr, &size) == 0 && addr) {
    t->stack_lo = (uintptr_t)addr;
    t->stack_hi = (uintptr_t)addr + size;
  }
  pthread_attr_destroy(&a);
}
