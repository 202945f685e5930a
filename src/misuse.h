/* pthread API misuse (kind `misuse`): the hooks see it, misuse.c reports it once per call site. */
#ifndef TW_MISUSE_H
#define TW_MISUSE_H

#include <stdint.h>

struct tw_event;
/* Reporter side: a TW_EV_MISUSE event from `thread`'s ring. */
void tw_misuse_on_event(const struct tw_event *ev, uint64_t thread);

#endif
