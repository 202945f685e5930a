/* The thread dump, pprof's goroutine?debug=1|2 for pthreads: every live application thread with its
 * id, name, state, what it waits for and for how long, current stack and creation stack. Grouped by
 * identical stacks with counts by default, or every thread; text or JSON. Analysis lock held. */
#ifndef TW_DUMP_H
#define TW_DUMP_H

#include <stdbool.h>

struct tw_out;
void tw_dump_write(struct tw_out *o, bool all, bool json);

#endif
