/* The wait-for solver (waitfor.h). */
#include "detect/waitfor.h"

static struct tw_wf_node *at(void *nodes, size_t stride, size_t i) {
  return (struct tw_wf_node *)((char *)nodes + i * stride);
}

void tw_wf_add_ender(struct tw_wf_node *n, int32_t idx) {
  if (idx < 0) return;
  for (uint32_t i = 0; i < n->nend; i++)
    if (n->end[i] == (uint32_t)idx) return;
  if (n->nend < TW_WF_MAX_ENDERS) n->end[n->nend++] = (uint32_t)idx;
}

size_t tw_waitfor_solve(void *nodes, size_t count, size_t stride, size_t alive, bool untracked,
                        const bool *keep) {
  size_t nstuck = 0;
  for (size_t i = 0; i < count; i++) {
    struct tw_wf_node *n = at(nodes, stride, i);
    n->stuck = n->rule != TW_WF_NEVER && (!keep || keep[i]);
    nstuck += n->stuck;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < count; i++) {
      struct tw_wf_node *n = at(nodes, stride, i);
      if (!n->stuck) continue;
      bool ok = true;
      switch (n->rule) {
        case TW_WF_SOME:
          ok = false;
          for (uint32_t k = 0; k < n->nend && !ok; k++) ok = at(nodes, stride, n->end[k])->stuck;
          break;
        case TW_WF_ALL:
          for (uint32_t k = 0; k < n->nend && ok; k++) ok = at(nodes, stride, n->end[k])->stuck;
          break;
        case TW_WF_OTHERS: ok = !untracked && nstuck == alive; break;
        default: break;
      }
      if (!ok) {
        n->stuck = false;
        nstuck--;
        changed = true;
      }
    }
  }
  return nstuck;
}

int32_t tw_waitfor_next(const void *nodes, size_t stride, const struct tw_wf_node *n) {
  if (n->rule == TW_WF_SOME) {
    for (uint32_t k = 0; k < n->nend; k++)
      if (at((void *)nodes, stride, n->end[k])->stuck) return (int32_t)n->end[k];
  }
  if (n->rule == TW_WF_ALL && n->nend == 1) return (int32_t)n->end[0];
  return -1;
}
