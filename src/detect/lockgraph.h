/* Lock-order graph: nodes are (lock, mode), edges "held -> acquired"; a dynamic topological order
 * (Pearce-Kelly) finds the cycle an edge closes the moment it arrives. Reporter side only. */
#ifndef TW_LOCKGRAPH_H
#define TW_LOCKGRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "report/report.h"

enum tw_lock_mode { TW_LM_WRITE = 0, TW_LM_READ = 1 }; /* a mutex is always WRITE */
enum tw_lock_kind { TW_LK_MUTEX = 0, TW_LK_RWLOCK = 1, TW_LK_SPIN = 2 };

/* One observation of "a thread acquired `to` while holding `from`", as the hooks send it. */
struct tw_edge_obs {
  uintptr_t from, to;
  uint8_t from_mode, to_mode; /* enum tw_lock_mode: how `from` is held, how `to` is taken */
  uint8_t from_kind, to_kind; /* enum tw_lock_kind */
  uintptr_t gate;             /* another lock held at the time (the outermost), 0 if none */
  uint64_t thread;            /* T-number */
  uint32_t stack_to;          /* where `to` was acquired */
  uint32_t stack_from;        /* where `from` was acquired */
};

struct tw_lockgraph;

struct tw_lockgraph *tw_lockgraph_new(void);
void tw_lockgraph_free(struct tw_lockgraph *g);

/* Feeds one observation. Returns true and fills *r when it closes a cycle not reported before that
 * no common gate lock protects and whose modes conflict at every lock (a real potential deadlock). */
bool tw_lockgraph_add(struct tw_lockgraph *g, const struct tw_edge_obs *e, struct tw_report *r);

/* The lock at `addr` was destroyed or re-initialised: its nodes and their edges are retired.
 * Returns whether it had any. */
bool tw_lockgraph_forget(struct tw_lockgraph *g, uintptr_t addr);

/* Every lock whose address is in [lo, hi) is gone (an unloaded module's data): as
 * tw_lockgraph_forget for each. One pass over the nodes. */
void tw_lockgraph_forget_range(struct tw_lockgraph *g, uintptr_t lo, uintptr_t hi);

/* Names a lock in reports (threadwatch_name_lock); NULL forgets. */
void tw_lockgraph_name(struct tw_lockgraph *g, uintptr_t addr, const char *name);

struct tw_lockgraph_stats {
  uint64_t nodes, edges, cycles_reported, cycles_gated;
  uint64_t bytes; /* memory held by the graph */
};
void tw_lockgraph_stats(const struct tw_lockgraph *g, struct tw_lockgraph_stats *s);

#endif
