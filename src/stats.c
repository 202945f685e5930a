/* Self-statistics counters (see stats.h). */
#include "stats.h"

struct tw_stats tw__stats;
