/* Profiles as data (samples, value types, interned strings), and the folded-stack writer. */
#include "report/profile.h"

#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "report/symbolize.h"
#include "runtime/stackdepot.h"

void tw_profile_init(struct tw_profile *p, const char *name, const struct tw_profile_type *types,
                     unsigned ntypes) {
  memset(p, 0, sizeof(*p));
  p->name = name;
  if (ntypes > TW_PROFILE_MAX_TYPES) ntypes = TW_PROFILE_MAX_TYPES;
  p->ntypes = (uint8_t)ntypes;
  for (unsigned i = 0; i < ntypes; i++) p->types[i] = types[i];
  if (ntypes) p->period_type = types[0];
  p->period = 1;
}

void tw_profile_free(struct tw_profile *p) {
  for (size_t i = 0; i < p->nstrs; i++) free(p->strs[i]);
  free(p->strs);
  free(p->samples);
  memset(p, 0, sizeof(*p));
}

const char *tw_profile_intern(struct tw_profile *p, const char *s) {
  /* The strings of one profile are few and short (states, calls, names, objects): a sample keeps
   * pointers, so an equal string seen just before is shared rather than copied again. */
  for (size_t i = p->nstrs, k = 0; i-- > 0 && k < 8; k++)
    if (strcmp(p->strs[i], s) == 0) return p->strs[i];
  if (p->nstrs == p->capstrs) {
    size_t cap = p->capstrs ? 2 * p->capstrs : 64;
    char **grown = realloc(p->strs, cap * sizeof(*grown));
    if (!grown) {
      p->oom = true;
      return NULL;
    }
    p->strs = grown;
    p->capstrs = cap;
  }
  char *copy = strdup(s);
  if (!copy) {
    p->oom = true;
    return NULL;
  }
  p->strs[p->nstrs++] = copy;
  return copy;
}

struct tw_profile_sample *tw_profile_add(struct tw_profile *p, const struct tw_profile_sample *s) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 64;
    struct tw_profile_sample *grown = realloc(p->samples, cap * sizeof(*grown));
    if (!grown) {
      p->oom = true;
      return NULL;
    }
    p->samples = grown;
    p->cap = cap;
  }
  p->samples[p->n] = *s;
  return &p->samples[p->n++];
}

bool tw_profile_label_str(struct tw_profile *p, struct tw_profile_sample *s, const char *key,
                          const char *value) {
  if (s->nlabels >= TW_PROFILE_MAX_LABELS) return false;
  const char *v = tw_profile_intern(p, value);
  if (!v) return false;
  s->labels[s->nlabels++] = (struct tw_profile_label){.key = key, .str = v};
  return true;
}

bool tw_profile_label_num(struct tw_profile_sample *s, const char *key, int64_t num,
                          const char *unit) {
  if (s->nlabels >= TW_PROFILE_MAX_LABELS) return false;
  s->labels[s->nlabels++] = (struct tw_profile_label){.key = key, .num = num, .unit = unit};
  return true;
}

int tw_profile_type_index(const struct tw_profile *p, const char *type) {
  for (unsigned i = 0; i < p->ntypes; i++)
    if (strcmp(p->types[i].type, type) == 0) return (int)i;
  return -1;
}

/* --- folded stacks --------------------------------------------------------------------------- */

/* A growable string for one folded line. */
struct line {
  char *s;
  size_t len, cap;
  bool oom;
};

static void line_put(struct line *l, const char *s, size_t n) {
  if (l->oom) return;
  if (l->len + n + 1 > l->cap) {
    size_t cap = l->cap ? l->cap : 256;
    while (cap < l->len + n + 1) cap *= 2;
    char *grown = realloc(l->s, cap);
    if (!grown) {
      l->oom = true;
      return;
    }
    l->s = grown;
    l->cap = cap;
  }
  memcpy(l->s + l->len, s, n);
  l->len += n;
  l->s[l->len] = '\0';
}

/* A frame name as a folded frame: ';' separates frames and a line ends the record, so both (and
 * every other control byte) become '?'. */
static void line_frame(struct line *l, const char *name) {
  if (l->len) line_put(l, ";", 1);
  for (const char *c = name; *c; c++) {
    char ch = (*c == ';' || (unsigned char)*c < 0x20 || *c == 0x7f) ? '?' : *c;
    line_put(l, &ch, 1);
  }
}

struct folded {
  char *key; /* the frames, root first */
  int64_t sum;
  size_t order;
  UT_hash_handle hh;
};

static int by_order(const void *a, const void *b) {
  const struct folded *x = *(struct folded *const *)a, *y = *(struct folded *const *)b;
  return x->order < y->order ? -1 : x->order > y->order;
}

void tw_profile_folded(struct tw_out *o, const struct tw_profile *p, int value,
                       tw_symbolize_fn symbolize) {
  if (value < 0 || value >= p->ntypes) return;
  struct folded *all = NULL;
  size_t count = 0;
  struct line l = {0};
  for (size_t i = 0; i < p->n; i++) {
    const struct tw_profile_sample *s = &p->samples[i];
    if (s->values[value] == 0) continue;
    l.len = 0;
    if (l.s) l.s[0] = '\0';
    const uintptr_t *pcs;
    int n = tw_depot_get(s->stack, &pcs);
    for (int k = n; k-- > 0;) { /* root first: the outermost pc, and its outermost inline frame */
      struct tw_frame f[TW_MAX_INLINE];
      int nf = symbolize(pcs[k], f, TW_MAX_INLINE);
      for (int j = nf; j-- > 0;) line_frame(&l, f[j].function);
    }
    if (s->leaf) line_frame(&l, s->leaf);
    if (l.oom || !l.len) continue;
    struct folded *e = NULL;
    HASH_FIND_STR(all, l.s, e);
    if (!e) {
      e = calloc(1, sizeof(*e));
      char *key = e ? strdup(l.s) : NULL;
      if (!key) {
        free(e);
        continue;
      }
      e->key = key;
      e->order = count++;
      HASH_ADD_KEYPTR(hh, all, e->key, strlen(e->key), e);
    }
    e->sum += s->values[value];
  }
  free(l.s);
  struct folded **sorted = calloc(count ? count : 1, sizeof(*sorted));
  size_t k = 0;
  struct folded *e, *tmp;
  HASH_ITER(hh, all, e, tmp) if (sorted) sorted[k++] = e;
  if (sorted) qsort(sorted, k, sizeof(*sorted), by_order);
  for (size_t i = 0; sorted && i < k; i++) {
    tw_out_str(o, sorted[i]->key);
    tw_out_fmt(o, " %lld\n", (long long)sorted[i]->sum);
  }
  free(sorted);
  HASH_ITER(hh, all, e, tmp) {
    HASH_DEL(all, e);
    free(e->key);
    free(e);
  }
}
