/* Lock names given by threadwatch_name_lock(): one table, written under the analysis lock, read
 * without any lock from whichever thread describes a lock in a report. */
#include "runtime/names.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/out.h"
#include "base/tw.h"

#define NAME_WORDS (TW_NAME_BYTES / 8)
#define FIRST_CAP 64

static_assert(TW_NAME_BYTES % 8 == 0, "a name is whole words");

/* One named address. `addr` is set once (release, after the name) and never cleared: a forgotten
 * name is an empty one. The name is guarded by a sequence lock (seq odd while it is written) whose
 * words are atomics, so a reader racing a rename copies the old or the new name, never a mix. */
struct slot {
  _Atomic uintptr_t addr;
  _Atomic uint32_t seq;
  _Atomic uint64_t word[NAME_WORDS];
};

/* Open addressing, linear probing, at most half full. A grown table replaces this one; the old one
 * is kept (a reader may still be probing it) and linked here, so its memory stays reachable. */
struct table {
  size_t cap; /* a power of two */
  struct table *older;
  struct slot slots[];
};

static struct table *_Atomic current; /* NULL until the first name: lookups cost one load */
static size_t used;                   /* slots with an address; analysis lock */
static bool said_full;                /* analysis lock */

static size_t home(uintptr_t addr, size_t cap) {
  return (size_t)(((uint64_t)addr * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

/* Writer side (analysis lock): the name's words, framed by the sequence lock. Partner: the
 * acquire fence in slot_read. */
static void slot_write(struct slot *s, const uint64_t *w) {
  uint32_t seq = tw_load_relaxed(&s->seq);
  tw_store_relaxed(&s->seq, seq + 1);
  tw_fence_release();
  for (int i = 0; i < NAME_WORDS; i++) tw_store_relaxed(&s->word[i], w[i]);
  tw_store_release(&s->seq, seq + 2);
}

/* Reader side: a consistent copy of the name, or false when a writer kept changing it. */
static bool slot_read(struct slot *s, uint64_t *w) {
  for (int tries = 0; tries < 1000; tries++) {
    uint32_t s1 = tw_load_acquire(&s->seq); /* partner: the release store ending slot_write */
    for (int i = 0; i < NAME_WORDS; i++) w[i] = tw_load_relaxed(&s->word[i]);
    tw_fence_acquire(); /* partner: the release fence in slot_write */
    if (!(s1 & 1) && s1 == tw_load_relaxed(&s->seq)) return true;
  }
  return false;
}

/* The slot of addr in t, or the empty slot where it would go. */
static struct slot *probe(struct table *t, uintptr_t addr) {
  size_t mask = t->cap - 1;
  for (size_t i = home(addr, t->cap), n = 0; n < t->cap; i = (i + 1) & mask, n++) {
    uintptr_t a = tw_load_acquire(&t->slots[i].addr); /* partner: the release store in place() */
    if (a == addr || a == 0) return &t->slots[i];
  }
  return NULL; /* never: the table is at most half full */
}

/* Puts addr with name words w into t (analysis lock; t not yet published, or the current one). */
static void place(struct table *t, uintptr_t addr, const uint64_t *w) {
  struct slot *s = probe(t, addr);
  slot_write(s, w);
  if (tw_load_relaxed(&s->addr) == 0) tw_store_release(&s->addr, addr);
}

static struct table *table_new(size_t cap) {
  struct table *t = calloc(1, sizeof(*t) + cap * sizeof(struct slot));
  if (t) t->cap = cap;
  return t;
}

/* Makes room for one more address. Returns 0 or an errno value. Analysis lock. */
static int reserve(void) {
  struct table *t = tw_load_relaxed(&current);
  if (t && (used + 1) * 2 <= t->cap) return 0;
  if (used >= TW_NAMES_MAX) {
    if (!said_full) {
      char msg[128];
      int len = snprintf(msg, sizeof(msg),
                         "threadwatch: %d locks are named; further threadwatch_name_lock() "
                         "calls are refused (ENOSPC)\n", TW_NAMES_MAX);
      tw__write_all(2, msg, (size_t)len);
      said_full = true;
    }
    return ENOSPC;
  }
  struct table *bigger = table_new(t ? t->cap * 2 : FIRST_CAP);
  if (!bigger) return ENOMEM;
  for (size_t i = 0; t && i < t->cap; i++) {
    uintptr_t a = tw_load_relaxed(&t->slots[i].addr);
    if (!a) continue;
    uint64_t w[NAME_WORDS];
    for (int k = 0; k < NAME_WORDS; k++) w[k] = tw_load_relaxed(&t->slots[i].word[k]);
    place(bigger, a, w);
  }
  bigger->older = t;
  tw_store_release(&current, bigger); /* partner: the acquire loads in tw_names_get */
  return 0;
}

/* The name as it is kept: at most TW_NAME_BYTES - 1 bytes, not cut inside a UTF-8 sequence, control
 * bytes replaced (a name must not fake report lines). */
static void encode(const char *name, uint64_t *w) {
  unsigned char c[TW_NAME_BYTES] = {0};
  size_t k = 0;
  for (; name && name[k] && k < TW_NAME_BYTES - 1; k++) {
    unsigned char b = (unsigned char)name[k];
    c[k] = b < 0x20 || b == 0x7f ? '?' : b;
  }
  if (name && name[k]) { /* cut: drop a last character that lost its tail */
    size_t s = k;
    while (s > 0 && (c[s - 1] & 0xC0) == 0x80) s--;
    if (s > 0 && c[s - 1] >= 0xC0) {
      size_t need = c[s - 1] >= 0xF0 ? 4 : c[s - 1] >= 0xE0 ? 3 : 2;
      if (k - (s - 1) < need) memset(c + s - 1, 0, k - (s - 1));
    }
  }
  memcpy(w, c, sizeof(c));
}

int tw_names_set(uintptr_t addr, const char *name) {
  if (!addr) return EINVAL;
  uint64_t w[NAME_WORDS];
  encode(name, w);
  struct table *t = tw_load_relaxed(&current);
  struct slot *s = t ? probe(t, addr) : NULL;
  if (s && tw_load_relaxed(&s->addr) == addr) { /* renamed or forgotten in place */
    slot_write(s, w);
    return 0;
  }
  if (!name || !name[0]) return 0; /* forgetting a name it does not have */
  int rc = reserve();
  if (rc) return rc;
  place(tw_load_relaxed(&current), addr, w);
  used++;
  return 0;
}

bool tw_names_get(uintptr_t addr, char *buf, size_t n) {
  buf[0] = '\0';
  struct table *t = tw_load_acquire(&current); /* partner: the release store in reserve() */
  if (tw_likely(!t) || !addr) return false;
  struct slot *s = probe(t, addr);
  if (!s || tw_load_relaxed(&s->addr) != addr) return false;
  uint64_t w[NAME_WORDS];
  if (!slot_read(s, w)) return false;
  char name[TW_NAME_BYTES];
  memcpy(name, w, sizeof(name));
  name[TW_NAME_BYTES - 1] = '\0';
  if (!name[0]) return false;
  snprintf(buf, n, "%s", name);
  return true;
}

void tw_names_describe(char *buf, size_t n, const char *kind, uintptr_t addr) {
  char name[TW_NAME_BYTES];
  if (tw_names_get(addr, name, sizeof(name)))
    snprintf(buf, n, "%s %#lx \"%s\"", kind, (unsigned long)addr, name);
  else snprintf(buf, n, "%s %#lx", kind, (unsigned long)addr);
}

bool tw_names_any(void) { return tw_load_acquire(&current) != NULL; }
