/* Race-suspect accesses on watched data (THREADWATCH_WATCH, threadwatch_watch): hardware
 * watchpoints armed in every application thread, a lockset check refined by happens-before
 * (docs/race.md).
 *
 * Modules: race.c (THREADWATCH_WATCH syntax, reports), the trap side (trap.h: perf.c, trap.c,
 * arm.c, sync.c, start.c), hb.c (vector clocks, locksets, shadow), x86.c (read or write: the
 * trapping instruction decoded), base/elfsym.c (symbols from .symtab/.dynsym).
 *
 * This header is the API and report side; the hooks' side is race/hook.h. */
#ifndef TW_RACE_H
#define TW_RACE_H

#include <stddef.h>
#include <stdint.h>

#include "base/tw.h"

/* Watches [addr, addr + len) from now on, in every thread; label names it in reports (may be NULL).
 * Returns 0, or an errno value (ENOSPC when no debug register is left, EPERM/EACCES when
 * perf_event_open is not permitted, EINVAL for a length the hardware cannot watch). */
int tw_race_watch(uintptr_t addr, size_t len, const char *label);

/* Stops watching the range that starts at addr. Returns 0, or ENOENT when it is not watched. */
int tw_race_unwatch(uintptr_t addr);

struct tw_event;
/* Reporter side: a TW_EV_RACE_ACCESS event from `thread`'s ring.
 * TW_EV_RACE_ACCESS fields: a = index of a race pair (race_hb.h, tw_race_pair_at), b = its
 * generation; the pair holds both accesses (thread, read/write, stack, locks held) and the watched
 * piece. The trap handler sends it from the accessing thread's own ring when that thread is not
 * inside tool code (every ring push runs with the guard held), else the thread sends it later. */
void tw_race_on_event(const struct tw_event *ev, uint64_t thread);

/* control/init.c, tw__init_slow: after tw__stack_init() (options loaded, guard held). Reads
 * THREADWATCH_WATCH: a bad item or an unknown symbol is a one-line error and _exit(2); otherwise
 * arms the watchpoints in every thread and turns tw__race_on on. No watch: nothing happens. */
void tw_race_init(void);

/* control/init.c, tw__fork_child: the child re-arms its one thread (breakpoints are not inherited across
 * fork) and forgets the parent's analysis state. */
void tw_race_fork_child(void);

#endif
