/* Self-statistics: what the tool has seen and lost, for the summary line and the exit message. */
#ifndef TW_STATS_H
#define TW_STATS_H

#include <stdint.h>

#include "base/atomic.h"

struct tw_stats {
  _Atomic uint64_t events;      /* events drained by the reporter */
  _Atomic uint64_t reports;     /* reports written */
  _Atomic uint64_t suppressed;  /* reports matched by a suppression */
  _Atomic uint64_t write_errors;/* report writes that failed */
};

extern struct tw_stats tw__stats;

#define tw_stat_add(field, v) tw_add_relaxed(&tw__stats.field, (v))
#define tw_stat_get(field) tw_load_relaxed(&tw__stats.field)

#endif
