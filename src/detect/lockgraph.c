/* Lock-order graph with an incrementally maintained topological order (Pearce & Kelly, "A dynamic
 * topological sort algorithm for directed acyclic graphs", 2006; the method of Abseil's GraphCycles).
 *
 * Nodes are (lock address, mode): (L, WRITE) stands for "L held exclusively" and (L, READ) for "L
 * held shared". Acquiring L in a mode can only block on holders in a conflicting mode, so the
 * observation "took T while holding H in mode h" becomes an edge (H,h) -> (T,m) for every hold mode
 * m that conflicts with the acquisition. A cycle in this graph is then a cycle of real waits: a
 * cycle of read acquisitions only cannot form. Mutexes only ever have WRITE nodes.
 *
 * Each edge keeps its first observation (thread, both stacks) and its gate: the other lock that was
 * held around every observation of it (0 once any observation had none, or a different one). A
 * cycle whose edges all share one gate cannot close (every thread must take the gate first) and is
 * not reported.
 *
 * Memory: a node is 64 bytes (two edges of each direction inline) plus 12-24 bytes of hash table;
 * an edge is 48 bytes plus 12-24 bytes of hash table (edges are found by (from, to) in one probe)
 * plus 4 bytes in each endpoint's adjacency list once it outgrows the inline slots.
 */
#include "detect/lockgraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/tw.h"
#include "report/build.h"

#define NONE UINT32_MAX

/* --- u64 -> u32 open-addressing map (linear probing, tombstones) --- */

#define MAP_EMPTY 0ull
#define MAP_TOMB UINT64_MAX

struct map {
  uint64_t *keys;
  uint32_t *vals;
  uint32_t cap, used, tombs;
};

/* Slot hash of the maps: locality-preserving for addresses (locks allocated together, e.g. an array
 * of mutexes, land in nearby slots, which keeps a million-lock graph cache friendly), with high
 * bits folded in so that large power-of-two strides do not pile up. */
static uint64_t slot_hash(uint64_t k) { return (k >> 4) ^ (k >> 24) ^ (k >> 44); }

static uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  return k ^ (k >> 33);
}

static uint32_t map_get(const struct map *m, uint64_t k) {
  if (!m->cap) return NONE;
  for (uint32_t i = (uint32_t)slot_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == MAP_EMPTY) return NONE;
    if (m->keys[i] == k) return m->vals[i];
  }
}

static bool map_grow(struct map *m) {
  uint32_t ncap = m->cap ? m->cap * 2 : 64;
  if ((m->used - m->tombs) * 4 < m->cap) ncap = m->cap; /* mostly tombstones: rebuild in place */
  uint64_t *nk = calloc(ncap, sizeof(*nk));
  uint32_t *nv = malloc(sizeof(*nv) * ncap);
  if (!nk || !nv) {
    free(nk);
    free(nv);
    return false;
  }
  for (uint32_t i = 0; i < m->cap; i++) {
    uint64_t k = m->keys[i];
    if (k == MAP_EMPTY || k == MAP_TOMB) continue;
    uint32_t j = (uint32_t)slot_hash(k) & (ncap - 1);
    while (nk[j] != MAP_EMPTY) j = (j + 1) & (ncap - 1);
    nk[j] = k;
    nv[j] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->used -= m->tombs;
  m->tombs = 0;
  m->keys = nk;
  m->vals = nv;
  m->cap = ncap;
  return true;
}

/* The value slot of k, inserting k (value NONE) when absent: one probe for find-or-insert.
 * Returns NULL when memory runs out. The pointer is valid until the next insertion. */
static uint32_t *map_slot(struct map *m, uint64_t k) {
  if ((m->used + 1) * 2 > m->cap && !map_grow(m)) return NULL;
  uint32_t i = (uint32_t)slot_hash(k) & (m->cap - 1), tomb = NONE;
  for (;; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == k) return &m->vals[i];
    if (m->keys[i] == MAP_TOMB && tomb == NONE) tomb = i;
    if (m->keys[i] == MAP_EMPTY) break;
  }
  if (tomb != NONE) {
    i = tomb;
    m->tombs--;
  } else {
    m->used++;
  }
  m->keys[i] = k;
  m->vals[i] = NONE;
  return &m->vals[i];
}

static bool map_put(struct map *m, uint64_t k, uint32_t v) {
  uint32_t *slot = map_slot(m, k);
  if (slot) *slot = v;
  return slot != NULL;
}

static void map_del(struct map *m, uint64_t k) {
  if (!m->cap) return;
  for (uint32_t i = (uint32_t)slot_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == MAP_EMPTY) return;
    if (m->keys[i] == k) {
      m->keys[i] = MAP_TOMB;
      m->tombs++;
      return;
    }
  }
}

static void map_free(struct map *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof(*m));
}

/* --- growable u32 vector; the first two elements live inline (most locks have few edges) --- */

#define VEC_INLINE 2

struct vec {
  uint32_t n, cap; /* cap <= VEC_INLINE: the elements are in inl */
  union {
    uint32_t inl[VEC_INLINE];
    uint32_t *v;
  };
};

static inline uint32_t *vec_data(struct vec *a) { return a->cap > VEC_INLINE ? a->v : a->inl; }

static bool vec_push(struct vec *a, uint32_t x) {
  uint32_t cap = a->cap > VEC_INLINE ? a->cap : VEC_INLINE;
  if (a->n == cap) {
    uint32_t ncap = cap * 2;
    uint32_t *nv = malloc(sizeof(*nv) * ncap);
    if (!nv) return false;
    memcpy(nv, vec_data(a), sizeof(*nv) * a->n);
    if (a->cap > VEC_INLINE) free(a->v);
    a->v = nv;
    a->cap = ncap;
  }
  vec_data(a)[a->n++] = x;
  return true;
}

static void vec_remove(struct vec *a, uint32_t x) {
  uint32_t *v = vec_data(a);
  for (uint32_t i = 0; i < a->n; i++) {
    if (v[i] == x) {
      v[i] = v[--a->n];
      return;
    }
  }
}

static void vec_free(struct vec *a) {
  if (a->cap > VEC_INLINE) free(a->v);
  memset(a, 0, sizeof(*a));
}

/* --- the graph --- */

struct lg_node {
  uintptr_t addr;
  uint32_t ord;        /* position in the topological order */
  uint32_t visit;      /* DFS generation that last reached it */
  uint32_t parent;     /* edge the forward DFS came through */
  uint32_t first_seen; /* stack */
  uint8_t mode, kind, alive;
  struct vec out, in;  /* edge indices */
};

struct lg_edge {
  uint32_t from, to;
  uintptr_t gate;
  uint64_t thread;
  uint32_t stack_to, stack_from, seen;
  uint8_t in_dag, alive;
  uint8_t to_mode; /* how `to` was taken (the node's mode is the conflicting hold mode) */
};

struct lock_name {
  char name[48];
};

struct tw_lockgraph {
  struct lg_node *nodes;
  uint32_t nnodes, capnodes;
  struct vec free_nodes;
  struct lg_edge *edges;
  uint32_t nedges, capedges;
  struct vec free_edges;
  struct map node_of;   /* addr | mode -> node */
  struct map edge_of;   /* edge_key(from, to) -> edge */
  struct map reported;  /* cycle signature -> 1 */
  struct map name_of;   /* addr -> index into names */
  struct lock_name *names;
  uint32_t nnames;
  uint32_t next_ord, visit_gen;
  struct vec stack, delta_f, delta_b, ords, path; /* DFS scratch */
  uint64_t live_nodes, live_edges, cycles_reported, cycles_gated;
};

struct tw_lockgraph *tw_lockgraph_new(void) { return calloc(1, sizeof(struct tw_lockgraph)); }

void tw_lockgraph_free(struct tw_lockgraph *g) {
  if (!g) return;
  for (uint32_t i = 0; i < g->nnodes; i++) {
    vec_free(&g->nodes[i].out);
    vec_free(&g->nodes[i].in);
  }
  free(g->nodes);
  free(g->edges);
  vec_free(&g->free_nodes);
  vec_free(&g->free_edges);
  map_free(&g->node_of);
  map_free(&g->edge_of);
  map_free(&g->reported);
  map_free(&g->name_of);
  free(g->names);
  vec_free(&g->stack);
  vec_free(&g->delta_f);
  vec_free(&g->delta_b);
  vec_free(&g->ords);
  vec_free(&g->path);
  free(g);
}

static uint64_t node_key(uintptr_t addr, uint8_t mode) { return ((uint64_t)addr << 1) | mode; }

static uint32_t node_get(struct tw_lockgraph *g, uintptr_t addr, uint8_t mode, uint8_t kind,
                         uint32_t seen_at) {
  uint32_t *slot = map_slot(&g->node_of, node_key(addr, mode));
  if (!slot) return NONE;
  if (*slot != NONE) return *slot;
  uint32_t n;
  if (g->free_nodes.n) {
    n = vec_data(&g->free_nodes)[--g->free_nodes.n];
  } else {
    if (g->nnodes == g->capnodes) {
      uint32_t ncap = g->capnodes ? g->capnodes * 2 : 64;
      struct lg_node *nn = realloc(g->nodes, sizeof(*nn) * ncap);
      if (!nn) {
        map_del(&g->node_of, node_key(addr, mode));
        return NONE;
      }
      g->nodes = nn;
      g->capnodes = ncap;
    }
    n = g->nnodes++;
    memset(&g->nodes[n], 0, sizeof(g->nodes[n]));
  }
  *slot = n;
  struct lg_node *nd = &g->nodes[n];
  struct vec out = nd->out, in = nd->in; /* a recycled node keeps its (empty) buffers */
  *nd = (struct lg_node){.addr = addr, .ord = g->next_ord++, .mode = mode, .kind = kind,
                         .alive = 1, .first_seen = seen_at, .out = out, .in = in};
  nd->out.n = nd->in.n = 0;
  g->live_nodes++;
  return n;
}

/* Forward DFS from y over DAG edges to nodes ordered at most ub. Returns true if it reaches x
 * (a cycle: parents lead back to y). Otherwise delta_f holds the nodes reached. */
static bool dfs_forward(struct tw_lockgraph *g, uint32_t y, uint32_t x, uint32_t ub) {
  uint32_t gen = ++g->visit_gen;
  g->stack.n = g->delta_f.n = 0;
  g->nodes[y].visit = gen;
  g->nodes[y].parent = NONE;
  vec_push(&g->stack, y);
  while (g->stack.n) {
    uint32_t n = vec_data(&g->stack)[--g->stack.n];
    vec_push(&g->delta_f, n);
    struct lg_node *nd = &g->nodes[n];
    const uint32_t *out = vec_data(&nd->out);
    for (uint32_t i = 0; i < nd->out.n; i++) {
      struct lg_edge *e = &g->edges[out[i]];
      if (!e->in_dag) continue;
      struct lg_node *to = &g->nodes[e->to];
      if (e->to == x) {
        to->parent = out[i];
        return true;
      }
      if (to->visit == gen || to->ord > ub) continue;
      to->visit = gen;
      to->parent = out[i];
      vec_push(&g->stack, e->to);
    }
  }
  return false;
}

/* Backward DFS from x over DAG edges to nodes ordered at least lb, into delta_b. */
static void dfs_backward(struct tw_lockgraph *g, uint32_t x, uint32_t lb) {
  uint32_t gen = ++g->visit_gen;
  g->stack.n = g->delta_b.n = 0;
  g->nodes[x].visit = gen;
  vec_push(&g->stack, x);
  while (g->stack.n) {
    uint32_t n = vec_data(&g->stack)[--g->stack.n];
    vec_push(&g->delta_b, n);
    struct lg_node *nd = &g->nodes[n];
    const uint32_t *in = vec_data(&nd->in);
    for (uint32_t i = 0; i < nd->in.n; i++) {
      struct lg_edge *e = &g->edges[in[i]];
      if (!e->in_dag) continue;
      struct lg_node *from = &g->nodes[e->from];
      if (from->visit == gen || from->ord < lb) continue;
      from->visit = gen;
      vec_push(&g->stack, e->from);
    }
  }
}

static struct tw_lockgraph *sort_graph; /* qsort context; the graph is single-threaded */
static int by_ord(const void *a, const void *b) {
  uint32_t x = sort_graph->nodes[*(const uint32_t *)a].ord;
  uint32_t y = sort_graph->nodes[*(const uint32_t *)b].ord;
  return x < y ? -1 : x > y;
}
static int by_value(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Pearce-Kelly reorder: delta_b (sorted) then delta_f (sorted) take the union of their positions. */
static void reorder(struct tw_lockgraph *g) {
  sort_graph = g;
  uint32_t *db = vec_data(&g->delta_b), *df = vec_data(&g->delta_f);
  qsort(db, g->delta_b.n, sizeof(uint32_t), by_ord);
  qsort(df, g->delta_f.n, sizeof(uint32_t), by_ord);
  g->ords.n = 0;
  for (uint32_t i = 0; i < g->delta_b.n; i++) vec_push(&g->ords, g->nodes[db[i]].ord);
  for (uint32_t i = 0; i < g->delta_f.n; i++) vec_push(&g->ords, g->nodes[df[i]].ord);
  uint32_t *ords = vec_data(&g->ords);
  qsort(ords, g->ords.n, sizeof(uint32_t), by_value);
  uint32_t k = 0;
  for (uint32_t i = 0; i < g->delta_b.n; i++) g->nodes[db[i]].ord = ords[k++];
  for (uint32_t i = 0; i < g->delta_f.n; i++) g->nodes[df[i]].ord = ords[k++];
}

static const char *mode_word(uint8_t mode, uint8_t kind) {
  if (kind != TW_LK_RWLOCK) return "";
  return mode == TW_LM_READ ? " (read)" : " (write)";
}

/* Order-independent signature of a cycle: its lock addresses, sorted. */
static uint64_t cycle_signature(const uintptr_t *addrs, uint32_t n) {
  uintptr_t sorted[TW_REPORT_MAX_CYCLE * 4];
  uint32_t m = n < TW_ARRAY_LEN(sorted) ? n : (uint32_t)TW_ARRAY_LEN(sorted);
  memcpy(sorted, addrs, sizeof(*addrs) * m);
  for (uint32_t i = 1; i < m; i++)
    for (uint32_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
      uintptr_t t = sorted[j];
      sorted[j] = sorted[j - 1];
      sorted[j - 1] = t;
    }
  uint64_t h = 0x9e3779b97f4a7c15ull ^ m;
  for (uint32_t i = 0; i < m; i++) h = mix(h ^ sorted[i]);
  return h ? h : 1;
}

/* Fills r from the first n edges of a cycle of `total` edges. */
static void fill_report(struct tw_lockgraph *g, const uint32_t *cyc, uint32_t n, uint32_t total,
                        struct tw_report *r) {
  memset(r, 0, sizeof(*r));
  r->kind = "lock-order-cycle";
  r->what = "lock-order";
  r->cycle_len = total;
  uint32_t shown = n < TW_REPORT_MAX_CYCLE ? n : TW_REPORT_MAX_CYCLE;
  /* Lock i is the `from` of edge i; edge i leads to lock i+1 (the last one back to lock 0). */
  for (uint32_t i = 0; i < shown; i++) {
    const struct lg_edge *e = &g->edges[cyc[i]];
    const struct lg_node *from = &g->nodes[e->from];
    struct tw_report_lock *l = &r->locks[i];
    l->addr = from->addr;
    l->kind = from->kind;
    l->first_seen = from->first_seen ? from->first_seen : e->stack_from;
    uint32_t ni = map_get(&g->name_of, from->addr);
    if (ni != NONE) snprintf(l->name, sizeof(l->name), "%s", g->names[ni].name);
    /* In a cut cycle the last shown edge leads to a lock that is not listed (index `shown`). */
    r->edges[i] = (struct tw_report_edge){
        .from = i, .to = shown == total ? (i + 1) % shown : i + 1, .thread = e->thread,
        .from_mode = from->mode, .to_mode = e->to_mode,
        .stack_to = e->stack_to, .stack_from = e->stack_from, .seen = e->seen};
  }
  r->nlocks = r->nedges = shown;

  /* Threads: one per distinct edge thread, in cycle order (the caller fills their details). */
  uint64_t tids[TW_REPORT_MAX_CYCLE];
  uint32_t nt = 0;
  for (uint32_t i = 0; i < shown; i++) {
    bool dup = false;
    for (uint32_t j = 0; j < nt; j++) dup |= tids[j] == r->edges[i].thread;
    if (!dup) tids[nt++] = r->edges[i].thread;
  }
  r->count = nt;

  /* Message: who takes what in which order; a long cycle names its first three edges and counts
   * the rest, so the sentence always ends. */
  char buf[sizeof(r->message)];
  size_t len = 0;
  uint32_t told = shown <= 4 ? shown : 3;
  len += (size_t)snprintf(buf + len, sizeof(buf) - len, "potential deadlock: ");
  for (uint32_t i = 0; i < told && len < sizeof(buf); i++) {
    const struct tw_report_edge *e = &r->edges[i];
    char where[160];
    tw_report_where(e->stack_to, where, sizeof(where));
    uint8_t to_kind = e->to < shown ? r->locks[e->to].kind : TW_LK_MUTEX;
    char who[48];
    tw_report_thread_label(e->thread, who, sizeof(who));
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s takes M%u%s then M%u%s at %s",
                            i ? "; " : "", who, e->from + 1,
                            mode_word(e->from_mode, r->locks[e->from].kind), e->to + 1,
                            mode_word(e->to_mode, to_kind), where);
  }
  if (len < sizeof(buf) && told < total)
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "; and %u more edges", total - told);
  if (len < sizeof(buf))
    snprintf(buf + len, sizeof(buf) - len, " (a cycle of %u locks, not yet a hang)", total);
  snprintf(r->message, sizeof(r->message), "%s", buf);

  /* Hint: the order seen least often is the likely odd one out. */
  uint32_t least = 0;
  for (uint32_t i = 1; i < shown; i++)
    if (r->edges[i].seen < r->edges[least].seen) least = i;
  const struct tw_report_edge *odd = &r->edges[least];
  uint32_t others = 0;
  for (uint32_t i = 0; i < shown; i++)
    if (i != least) others += r->edges[i].seen;
  char where[160];
  tw_report_where(odd->stack_to, where, sizeof(where));
  if (shown == 2)
    snprintf(r->hint, sizeof(r->hint),
             "M%u then M%u was seen %u time%s, M%u then M%u %u time%s (T%llu at %s); take the two "
             "locks in one order everywhere",
             r->edges[1 - least].from + 1, r->edges[1 - least].to + 1, others, others == 1 ? "" : "s",
             odd->from + 1, odd->to + 1, odd->seen, odd->seen == 1 ? "" : "s",
             (unsigned long long)odd->thread, where);
  else
    snprintf(r->hint, sizeof(r->hint),
             "the order seen least often is M%u then M%u (T%llu at %s, %u time%s); taking M%u first "
             "there breaks the cycle",
             odd->from + 1, odd->to + 1, (unsigned long long)odd->thread, where, odd->seen,
             odd->seen == 1 ? "" : "s", odd->to + 1);
}

/* Tries to place edge ei in the DAG. On a cycle, decides whether to report it. */
static bool try_insert(struct tw_lockgraph *g, uint32_t ei, struct tw_report *r) {
  struct lg_edge *e = &g->edges[ei];
  uint32_t x = e->from, y = e->to;
  if (x == y) return false; /* a lock taken while holding itself: self-relock, not lock order */
  if (g->nodes[x].ord < g->nodes[y].ord) {
    e->in_dag = 1;
    return false;
  }
  uint32_t lb = g->nodes[y].ord, ub = g->nodes[x].ord;
  if (dfs_forward(g, y, x, ub)) {
    /* The cycle: ei (x -> y), then the DFS path from y to x (walked backwards from x). */
    g->path.n = 0;
    for (uint32_t at = x; at != y; at = g->edges[g->nodes[at].parent].from)
      vec_push(&g->path, g->nodes[at].parent);
    const uint32_t *path = vec_data(&g->path);
    uint32_t total = g->path.n + 1;
    e->in_dag = 0;
    uintptr_t gate = e->gate;
    for (uint32_t i = 0; i < g->path.n && gate; i++)
      if (g->edges[path[i]].gate != gate) gate = 0;
    if (gate) {
      g->cycles_gated++;
      return false;
    }
    /* The cycle in order, starting at its oldest edge (edges are numbered as they arrive; the story
     * then reads in the order it happened). */
    uint32_t all = g->path.n + 1, start = 0, oldest = ei;
    for (uint32_t i = 0; i < g->path.n; i++)
      if (path[i] < oldest) {
        oldest = path[i];
        start = g->path.n - i; /* position of path[i] in the cycle: ei first, then path reversed */
      }
    uint32_t cyc[TW_REPORT_MAX_CYCLE * 4];
    uint32_t len = 0;
    for (uint32_t k = 0; k < all && len < TW_ARRAY_LEN(cyc); k++) {
      uint32_t pos = (start + k) % all;
      cyc[len++] = pos == 0 ? ei : path[g->path.n - pos];
    }
    uintptr_t addrs[TW_ARRAY_LEN(cyc)];
    for (uint32_t i = 0; i < len; i++) addrs[i] = g->nodes[g->edges[cyc[i]].from].addr;
    uint64_t sig = cycle_signature(addrs, len) ^ total;
    if (map_get(&g->reported, sig) != NONE) return false;
    map_put(&g->reported, sig, 1);
    g->cycles_reported++;
    if (r) fill_report(g, cyc, len, total, r);
    return true;
  }
  dfs_backward(g, x, lb);
  reorder(g);
  e->in_dag = 1;
  return false;
}

static uint32_t edge_new(struct tw_lockgraph *g) {
  if (g->free_edges.n) return vec_data(&g->free_edges)[--g->free_edges.n];
  if (g->nedges == g->capedges) {
    uint32_t ncap = g->capedges ? g->capedges * 2 : 64;
    struct lg_edge *ne = realloc(g->edges, sizeof(*ne) * ncap);
    if (!ne) return NONE;
    g->edges = ne;
    g->capedges = ncap;
  }
  return g->nedges++;
}

/* Node indices are small and dense: mixed (a bijection), so that the address-friendly slot hash
 * spreads them. A key that happens to be one of the map's two marks is moved: a clash of two such
 * keys only costs a wrong miss (the edge is added again). */
static uint64_t edge_key(uint32_t from, uint32_t to) {
  uint64_t k = mix((uint64_t)from << 32 | to);
  return k == MAP_EMPTY || k == MAP_TOMB ? 1 : k;
}

/* The edge from -> to: one probe of the edge map. (A scan of the shorter adjacency list made one
 * thread holding N locks cost O(N^3) over a run.) */
static uint32_t edge_find(struct tw_lockgraph *g, uint32_t from, uint32_t to) {
  uint32_t ei = map_get(&g->edge_of, edge_key(from, to));
  return ei != NONE && g->edges[ei].alive && g->edges[ei].from == from && g->edges[ei].to == to
             ? ei
             : NONE;
}

static bool add_one(struct tw_lockgraph *g, uint32_t from, uint32_t to, const struct tw_edge_obs *o,
                    struct tw_report *r) {
  uint32_t ei = edge_find(g, from, to);
  if (ei != NONE) {
    struct lg_edge *e = &g->edges[ei];
    e->seen++;
    if (e->gate != o->gate && e->gate != 0) {
      e->gate = 0; /* seen under a different gate or none: no longer protected */
      if (!e->in_dag) return try_insert(g, ei, r);
    }
    return false;
  }
  ei = edge_new(g);
  if (ei == NONE) return false;
  g->edges[ei] = (struct lg_edge){.from = from, .to = to, .gate = o->gate, .thread = o->thread,
                                  .stack_to = o->stack_to, .stack_from = o->stack_from,
                                  .seen = 1, .alive = 1, .to_mode = o->to_mode};
  vec_push(&g->nodes[from].out, ei);
  vec_push(&g->nodes[to].in, ei);
  map_put(&g->edge_of, edge_key(from, to), ei);
  g->live_edges++;
  return try_insert(g, ei, r);
}

bool tw_lockgraph_add(struct tw_lockgraph *g, const struct tw_edge_obs *o, struct tw_report *r) {
  if (o->from == o->to) return false;
  uint32_t from = node_get(g, o->from, o->from_mode, o->from_kind, o->stack_from);
  if (from == NONE) return false;
  /* Holders of `to` in these modes would block this acquisition. */
  bool found = false;
  uint8_t modes[2] = {TW_LM_WRITE, TW_LM_READ};
  int nmodes = (o->to_kind == TW_LK_RWLOCK && o->to_mode == TW_LM_WRITE) ? 2 : 1;
  for (int i = 0; i < nmodes; i++) {
    uint32_t to = node_get(g, o->to, modes[i], o->to_kind, o->stack_to);
    if (to == NONE) continue;
    found |= add_one(g, from, to, o, found ? NULL : r);
  }
  return found;
}

static void edge_drop(struct tw_lockgraph *g, uint32_t ei) {
  struct lg_edge *e = &g->edges[ei];
  vec_remove(&g->nodes[e->from].out, ei);
  vec_remove(&g->nodes[e->to].in, ei);
  map_del(&g->edge_of, edge_key(e->from, e->to));
  e->alive = e->in_dag = 0;
  vec_push(&g->free_edges, ei);
  g->live_edges--;
}

bool tw_lockgraph_forget(struct tw_lockgraph *g, uintptr_t addr) {
  bool had = false;
  for (uint8_t mode = 0; mode < 2; mode++) {
    uint64_t key = node_key(addr, mode);
    uint32_t n = map_get(&g->node_of, key);
    if (n == NONE) continue;
    had = true;
    struct lg_node *nd = &g->nodes[n];
    while (nd->out.n) edge_drop(g, vec_data(&nd->out)[0]);
    while (nd->in.n) edge_drop(g, vec_data(&nd->in)[0]);
    nd->alive = 0;
    map_del(&g->node_of, key);
    vec_push(&g->free_nodes, n);
    g->live_nodes--;
  }
  return had;
}

void tw_lockgraph_forget_range(struct tw_lockgraph *g, uintptr_t lo, uintptr_t hi) {
  for (uint32_t i = 0; i < g->nnodes; i++) {
    const struct lg_node *nd = &g->nodes[i];
    if (nd->alive && nd->addr >= lo && nd->addr < hi) tw_lockgraph_forget(g, nd->addr);
  }
}

void tw_lockgraph_name(struct tw_lockgraph *g, uintptr_t addr, const char *name) {
  uint32_t i = map_get(&g->name_of, addr);
  if (i == NONE) {
    if (!name) return;
    struct lock_name *nn = realloc(g->names, sizeof(*nn) * (g->nnames + 1));
    if (!nn) return;
    g->names = nn;
    i = g->nnames++;
    if (!map_put(&g->name_of, addr, i)) return;
  }
  snprintf(g->names[i].name, sizeof(g->names[i].name), "%s", name ? name : "");
}

void tw_lockgraph_stats(const struct tw_lockgraph *g, struct tw_lockgraph_stats *s) {
  s->nodes = g->live_nodes;
  s->edges = g->live_edges;
  s->cycles_reported = g->cycles_reported;
  s->cycles_gated = g->cycles_gated;
  uint64_t adj = 0;
  for (uint32_t i = 0; i < g->nnodes; i++) {
    if (g->nodes[i].out.cap > VEC_INLINE) adj += g->nodes[i].out.cap * 4ull;
    if (g->nodes[i].in.cap > VEC_INLINE) adj += g->nodes[i].in.cap * 4ull;
  }
  s->bytes = (uint64_t)g->capnodes * sizeof(struct lg_node) +
             (uint64_t)g->capedges * sizeof(struct lg_edge) +
             (uint64_t)g->node_of.cap * (sizeof(uint64_t) + sizeof(uint32_t)) +
             (uint64_t)g->edge_of.cap * (sizeof(uint64_t) + sizeof(uint32_t)) + adj;
}
