/* thread-growth: the live threads of each creation site, counted once a period; a site that keeps
 * rising gets one warning with its counts over time and the states of its threads. */
#include "detect/growth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "base/limits.h"
#include "base/msg.h"
#include "base/options.h"
#include "base/tw.h"
#include "report/build.h"
#include "report/emit.h"
#include "report/format.h"
#include "report/report.h"
#include "runtime/registry.h"

#define HIST (TW_GROWTH_PERIODS + 1)

struct site {
  uint32_t created_at;
  uint32_t now;        /* threads counted in the snapshot being taken */
  uint32_t hist[HIST]; /* the last counts, oldest first */
  uint32_t nhist;      /* how many of hist are filled (the newest nhist) */
  bool reported;       /* once per site and process */
  UT_hash_handle hh;
};

static struct site *sites;
static size_t nsites;
static uint64_t last_ns;
static bool full_said;

bool tw_growth_rising(const uint32_t *counts, size_t n) {
  if (n < HIST) return false;
  const uint32_t *c = counts + n - HIST;
  for (size_t i = 1; i < HIST; i++)
    if (c[i] <= c[i - 1]) return false;
  return c[HIST - 1] >= TW_GROWTH_MIN_THREADS;
}

/* Counted: a thread of the program's own making that is alive, or that exited and still waits for
 * a join (its stack and result are kept: a leak as well). */
static bool counted(const struct tw_thread_snap *s) {
  if (s->adopted || !s->created_at) return false;
  if (s->life != TW_LIFE_EXITED) return true;
  return s->join == TW_JOINABLE && !s->joining && !s->detaching;
}

static struct site *site_of(uint32_t created_at) {
  struct site *s = NULL;
  HASH_FIND(hh, sites, &created_at, sizeof(created_at), s);
  if (s || nsites >= TW_GROWTH_SITES) {
    if (!s && !full_said) {
      full_said = true;
      tw_msg("threadwatch: %u thread creation sites followed; the growth of new ones is not "
             "checked (TW_GROWTH_SITES)", TW_GROWTH_SITES);
    }
    return s;
  }
  s = calloc(1, sizeof(*s));
  if (!s) return NULL;
  s->created_at = created_at;
  HASH_ADD(hh, sites, created_at, sizeof(uint32_t), s);
  nsites++;
  return s;
}

/* The threads of one site, by what they do now: "30 blocked in read(), 2 running". */
struct state_group {
  enum tw_tstate state;
  enum tw_call call;
  uint32_t count;
};

static void report_site(struct site *s, const struct tw_thread_snap *snaps, size_t n,
                        uint64_t now) {
  static struct tw_report r; /* large: static, under the analysis lock */
  memset(&r, 0, sizeof(r));
  r.kind = "thread-growth";
  r.what = "rising";
  r.count = s->hist[HIST - 1];
  r.ngroups = 1;
  r.groups[0] = (struct tw_report_group){r.count, s->created_at};
  r.ncounts = HIST;
  memcpy(r.counts, s->hist, sizeof(s->hist));
  r.period_ns = tw__opt.growth_ns;
  struct state_group states[4];
  unsigned nstates = 0, other = 0;
  for (size_t i = 0; i < n; i++) {
    if (snaps[i].created_at != s->created_at || !counted(&snaps[i])) continue;
    struct tw_report_thread rt;
    tw_report_thread_from_snap(&rt, &snaps[i], now);
    /* One listed thread per state, call and stack: the different things the site's threads do. */
    bool listed = false;
    for (uint32_t k = 0; k < r.nthreads && !listed; k++)
      listed = r.threads[k].state == rt.state && r.threads[k].wait.call == rt.wait.call &&
               r.threads[k].stack == rt.stack;
    if (!listed && r.nthreads < TW_REPORT_MAX_THREADS) r.threads[r.nthreads++] = rt;
    else if (r.nmore < TW_ARRAY_LEN(r.more_ids)) r.more_ids[r.nmore++] = rt.id;
    unsigned k = 0;
    while (k < nstates && !(states[k].state == rt.state && states[k].call == rt.wait.call)) k++;
    if (k == nstates && nstates < TW_ARRAY_LEN(states))
      states[nstates++] = (struct state_group){rt.state, rt.wait.call, 0};
    if (k < nstates) states[k].count++;
    else other++;
  }
  char where[256], period[32], counts[HIST * 12] = "", doing[256] = "";
  tw_report_where(s->created_at, where, sizeof(where));
  tw_format_duration(period, sizeof(period), tw__opt.growth_ns);
  size_t off = 0;
  for (unsigned i = 0; i < HIST; i++)
    off += (size_t)snprintf(counts + off, sizeof(counts) - off, "%s%u", i ? ", " : "", s->hist[i]);
  off = 0;
  for (unsigned k = 0; k < nstates && off < sizeof(doing); k++) {
    const char *sep = k ? ", " : "";
    if (tw_tstate_waits(states[k].state))
      off += (size_t)snprintf(doing + off, sizeof(doing) - off, "%s%u %s in %s()", sep,
                              states[k].count, tw_state_name(states[k].state),
                              tw_call_name(states[k].call));
    else
      off += (size_t)snprintf(doing + off, sizeof(doing) - off, "%s%u %s", sep, states[k].count,
                              states[k].state == TW_TS_EXITED ? "exited, never joined" : "running");
  }
  if (other && off < sizeof(doing))
    snprintf(doing + off, sizeof(doing) - off, ", %u doing other things", other);
  snprintf(r.message, sizeof(r.message),
           "the live threads created at %s rose in each of the last %u periods of %s (%s): %s; a "
           "thread leak per request, or a ramp-up that has not settled yet",
           where, TW_GROWTH_PERIODS, period, counts, doing);
  r.dropped = tw_registry_dropped();
  tw_report_emit(&r);
}

static void count_period(uint64_t now) {
  size_t n = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&n);
  if (!snaps) return;
  for (size_t i = 0; i < n; i++) {
    if (!counted(&snaps[i])) continue;
    struct site *s = site_of(snaps[i].created_at);
    if (s) s->now++;
  }
  struct site *s, *tmp;
  HASH_ITER(hh, sites, s, tmp) {
    memmove(s->hist, s->hist + 1, sizeof(s->hist) - sizeof(s->hist[0]));
    s->hist[HIST - 1] = s->now;
    s->now = 0;
    if (s->nhist < HIST) s->nhist++;
    if (!s->reported && tw_growth_rising(s->hist + HIST - s->nhist, s->nhist)) {
      s->reported = true;
      report_site(s, snaps, n, now);
    }
    /* A site with no thread for a whole window is forgotten (it is followed again when it makes
     * threads), unless reported: that stays said. */
    bool empty = !s->reported;
    for (unsigned i = 0; i < HIST && empty; i++) empty = s->hist[i] == 0;
    if (empty && s->nhist == HIST) {
      HASH_DEL(sites, s);
      free(s);
      nsites--;
    }
  }
  free(snaps);
}

void tw_growth_tick(uint64_t now_ns, bool final) {
  if (final || !tw__opt.growth_ns) return;
  if (last_ns && now_ns - last_ns < tw__opt.growth_ns) return;
  last_ns = now_ns;
  count_period(now_ns);
}

void tw_growth_after_fork_child(bool consistent) {
  /* The child's threads are new: count afresh. An inconsistent state is abandoned, not walked. */
  if (consistent) {
    struct site *s, *tmp;
    HASH_ITER(hh, sites, s, tmp) {
      HASH_DEL(sites, s);
      free(s);
    }
  }
  sites = NULL;
  nsites = 0;
  last_ns = 0;
}
