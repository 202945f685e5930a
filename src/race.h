/* Race-suspect accesses on watched data (THREADWATCH_WATCH, threadwatch_watch): hardware watchpoints
 * armed in every application thread, a lockset check refined by happens-before. (Being built.) */
#ifndef TW_RACE_H
#define TW_RACE_H

#include <stddef.h>
#include <stdint.h>

/* Watches [addr, addr + len) from now on, in every thread; label names it in reports (may be NULL).
 * Returns 0, or an errno value (ENOSPC when no debug register is left, EPERM/EACCES when
 * perf_event_open is not permitted, EINVAL for a length the hardware cannot watch). */
int tw_race_watch(uintptr_t addr, size_t len, const char *label);

/* Stops watching the range that starts at addr. Returns 0, or ENOENT when it is not watched. */
int tw_race_unwatch(uintptr_t addr);

struct tw_event;
/* Reporter side: a TW_EV_RACE_ACCESS event from `thread`'s ring. */
void tw_race_on_event(const struct tw_event *ev, uint64_t thread);

#endif
