/* Race-suspect accesses on watched data: placeholder until the module lands. */
#include "race.h"

#include <errno.h>

int tw_race_watch(uintptr_t addr, size_t len, const char *label) {
  (void)addr, (void)len, (void)label;
  return ENOSYS;
}

int tw_race_unwatch(uintptr_t addr) {
  (void)addr;
  return ENOENT;
}

void tw_race_on_event(const struct tw_event *ev, uint64_t thread) {
  (void)ev, (void)thread;
}
