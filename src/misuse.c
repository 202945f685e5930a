/* pthread API misuse reports: placeholder until the module lands. */
#include "misuse.h"

void tw_misuse_on_event(const struct tw_event *ev, uint64_t thread) {
  (void)ev, (void)thread;
}
