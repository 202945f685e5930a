/* THE detector table: one row per detector (detector.h says how to add one). Ticks run in this
 * order: surge reports, growth reports, the summary line, then the wait scan (deadlocks, stalls). */
#include "detect/detector.h"

#include "base/tw.h"
#include "detect/growth.h"
#include "detect/leaks.h"
#include "detect/locks.h"
#include "detect/misuse.h"
#include "detect/profiles.h"
#include "detect/summary.h"
#include "detect/waits.h"
#include "race/race.h"
#include "runtime/fdtrack.h"
#include "runtime/feeders.h"

static void fdfacts_on_event(const struct tw_event *ev, uint64_t thread) {
  (void)thread;
  tw_fdfacts_on_event(ev);
}

const struct tw_detector tw__detectors[] = {
    /* name             events, ordered, on_event, tick, after_fork, at_exit */
    {"lock-order",
     TW_EV_BIT(TW_EV_LOCK_EDGE) | TW_EV_BIT(TW_EV_LOCK_RESET) | TW_EV_BIT(TW_EV_LOCK_INIT) |
         TW_EV_BIT(TW_EV_LOCK_RANGE_GONE),
     true,
     tw_locks_on_event, NULL, tw_locks_after_fork_child, tw_locks_at_exit},
    {"fd-facts", TW_EV_BIT(TW_EV_FD_IO), false, fdfacts_on_event, NULL, tw_fdfacts_after_fork_child,
     NULL},
    {"feeders", TW_EV_BIT(TW_EV_FEED) | TW_EV_BIT(TW_EV_FEED_RESET), true, tw_feeders_on_event,
     NULL, tw_feeders_after_fork_child, NULL},
    {"misuse", TW_EV_BIT(TW_EV_MISUSE), false, tw_misuse_on_event, NULL, NULL, NULL},
    {"race-suspect", TW_EV_BIT(TW_EV_RACE_ACCESS), false, tw_race_on_event, NULL, NULL, NULL},
    {"leaks", 0, false, NULL, tw_leaks_tick, tw_leaks_after_fork_child, tw_leaks_check_exit},
    {"growth", 0, false, NULL, tw_growth_tick, tw_growth_after_fork_child, NULL},
    {"summary", 0, false, NULL, tw_summary_tick, NULL, NULL},
    {"waits", TW_EV_BIT(TW_EV_COND_NOWAITER) | TW_EV_BIT(TW_EV_LOCK_RANGE_GONE), false,
     tw_waits_on_event, tw_waits_tick,
     tw_waits_after_fork_child, NULL},
    /* Last: the contention table follows the exit reports; the profile files are written then. */
    {"profiles", 0, false, NULL, NULL, NULL, tw_profiles_at_exit},
};
const unsigned tw__ndetectors = TW_ARRAY_LEN(tw__detectors);
