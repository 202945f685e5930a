/* Self-statistics counters (see stats.h). */
#include "base/stats.h"

struct tw_stats tw__stats;
