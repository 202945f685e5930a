/* The stable fingerprint of a report (fingerprint.h). */
#include "report/fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/symbolize.h"
#include "report/view.h"
#include "runtime/stackdepot.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    h ^= *p;
    h *= FNV_PRIME;
  }
  h ^= 0xff; /* a separator no string holds, so "ab"+"c" differs from "a"+"bc" */
  return h * FNV_PRIME;
}

static const char *base(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path ? path : "";
}

/* Frames of a stack that the fingerprint reads. */
#define FP_FRAMES 16

/* Hashes the program frames of a stack (function and file name, innermost first, a recursion's
 * repeated frame once), at most FP_FRAMES; `all`: every named frame instead (a stack with no frame
 * of the program). Returns how many frames it took. */
static int hash_stack(uint64_t *h, uint32_t stack, bool all) {
  const uintptr_t *pcs;
  int n = tw_depot_get(stack, &pcs), used = 0;
  uint64_t last = 0;
  for (int i = 0; i < n && used < FP_FRAMES; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(pcs[i], f, TW_MAX_INLINE);
    for (int j = 0; j < nf && used < FP_FRAMES; j++) {
      bool take =
          all ? strcmp(f[j].function, "??") != 0 : tw_frame_is_program(f[j].module, f[j].file, f[j].function);
      /* A frame with neither a name nor a file says nothing stable (only its module's name, which
       * a renamed binary changes). */
      if (!take || (!f[j].file && strcmp(f[j].function, "??") == 0)) continue;
      const char *file = f[j].file ? base(f[j].file) : "";
      uint64_t fh = fnv(fnv(FNV_OFFSET, f[j].function), file);
      if (fh == last) continue; /* recursion: the depth varies from run to run */
      last = fh;
      *h = fnv(*h, f[j].function);
      *h = fnv(*h, file);
      used++;
    }
  }
  return used;
}

struct sites {
  uint64_t h[TW_REPORT_MAX_THREADS + 2 * TW_REPORT_MAX_CYCLE + TW_REPORT_MAX_GROUPS + 4];
  size_t n;
  int frames; /* program frames seen in all of them */
};

static void site(struct sites *s, uint32_t a, uint32_t b, bool all) {
  if (s->n >= sizeof(s->h) / sizeof(s->h[0])) return;
  uint64_t h = FNV_OFFSET;
  s->frames += hash_stack(&h, a, all);
  h = fnv(h, "|");
  s->frames += hash_stack(&h, b, all);
  s->h[s->n++] = h;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* One site per thread the report is about (not its context threads: a lock holder is wherever it
 * happens to be), per edge of a cycle, per group of a surge. */
static void collect(const struct tw_report *r, struct sites *s, bool all) {
  s->n = 0;
  s->frames = 0;
  if (r->nedges) {
    for (uint32_t i = 0; i < r->nedges; i++) site(s, r->edges[i].stack_from, r->edges[i].stack_to, all);
    return;
  }
  if (r->ngroups) {
    for (uint32_t i = 0; i < r->ngroups; i++) site(s, 0, r->groups[i].created_at, all);
    return;
  }
  uint32_t counted = r->nthreads > r->ncontext ? r->nthreads - r->ncontext : r->nthreads;
  /* A thread that is running or has exited has no stable current stack: its creation is what
   * identifies it (where a running thread happens to be at exit varies). */
  bool leak_unblocked = !strcmp(r->kind, "thread-leak") && r->what && strcmp(r->what, "blocked") != 0;
  for (uint32_t i = 0; i < counted; i++) {
    const struct tw_report_thread *t = &r->threads[i];
    site(s, leak_unblocked ? 0 : t->stack, t->created_at, all);
  }
}

void tw_report_fingerprint(const struct tw_report *r, char out[TW_FINGERPRINT_LEN + 1]) {
  static struct sites s; /* analysis lock held */
  collect(r, &s, false);
  if (s.frames == 0) collect(r, &s, true); /* no frame of the program: every named frame */
  qsort(s.h, s.n, sizeof(s.h[0]), cmp_u64);
  uint64_t h = fnv(fnv(FNV_OFFSET, r->kind), r->what);
  for (size_t i = 0; i < s.n; i++) {
    if (i && s.h[i] == s.h[i - 1]) continue; /* threads with the same stacks count once */
    for (int b = 0; b < 8; b++) {
      h ^= (s.h[i] >> (8 * b)) & 0xff;
      h *= FNV_PRIME;
    }
  }
  snprintf(out, TW_FINGERPRINT_LEN + 1, "%016llx", (unsigned long long)h);
}
