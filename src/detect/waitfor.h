/* The wait-for solver, a pure function: given for each blocked thread a rule saying who can end its
 * wait, which threads are stuck for good. No process state, no clock: detect/waits.c builds the
 * rules from the threads' wait states, and the unit tests feed it by hand. */
#ifndef TW_DETECT_WAITFOR_H
#define TW_DETECT_WAITFOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Threads remembered as the possible enders of one wait. */
#define TW_WF_MAX_ENDERS 8

enum tw_wf_rule {
  TW_WF_NEVER = 0, /* not stuck: running, timed, or something outside the process can end it */
  TW_WF_ALWAYS,    /* stuck whatever others do: the lock's owner has exited */
  TW_WF_SOME,      /* stuck if some ender (holder, join target) is stuck */
  TW_WF_ALL,       /* stuck if every ender (known writers/readers) is stuck */
  TW_WF_OTHERS,    /* stuck if every other thread is stuck (condvar; fd with nobody known) */
};

/* One thread's wait, as the solver sees it. */
struct tw_wf_node {
  enum tw_wf_rule rule;
  bool stuck;                     /* the result */
  uint32_t nend;
  uint32_t end[TW_WF_MAX_ENDERS]; /* node indices of the enders */
};

/* Adds node index idx (>= 0; negative: nothing) as an ender of n, once; past TW_WF_MAX_ENDERS
 * further ones are not kept. */
void tw_wf_add_ender(struct tw_wf_node *n, int32_t idx);

/* The greatest fixpoint of "stuck": start from every node whose rule is not TW_WF_NEVER (and that
 * `keep` marks, when given), drop those whose rule some non-stuck node can satisfy, repeat. The
 * nodes are `count` elements of `stride` bytes at `nodes`, each starting with a struct tw_wf_node
 * (so a caller's own node type can carry more). `alive`: the threads of the process that are alive
 * (what TW_WF_OTHERS compares to); `untracked`: threads exist that the caller does not know (then
 * TW_WF_OTHERS is never stuck). Sets each node's `stuck` and returns how many are. */
size_t tw_waitfor_solve(void *nodes, size_t count, size_t stride, size_t alive, bool untracked,
                        const bool *keep);

/* The one node a stuck node waits for, when there is exactly one (cycles are walked along it):
 * for TW_WF_SOME its first stuck ender, for TW_WF_ALL its only ender; else -1. */
int32_t tw_waitfor_next(const void *nodes, size_t stride, const struct tw_wf_node *n);

#endif
