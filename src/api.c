/* The public API of include/threadwatch.h, as implemented inside the preloaded library. */
#include "threadwatch.h"

#include "init.h"
#include "registry.h"
#include "tls.h"
#include "tw.h"

TW_EXPORT const char *threadwatch_version(void) { return "0.1.0"; }

TW_EXPORT unsigned long threadwatch_thread_count(void) {
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw__ensure_init();
  struct tw_registry_counts c;
  tw_registry_counts(&c);
  tw_guard_leave(t);
  return (unsigned long)c.live;
}
