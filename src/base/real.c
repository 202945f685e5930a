/* Resolves the real functions behind every hook, once, from the table in real.inc. */
#include "base/real.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/msg.h"
#include "base/tw.h"

#define TW_REAL(ret, name, params, version, required) ret(*tw__real_##name) params;
#include "base/real.inc"
#undef TW_REAL

static void *lookup(const char *name, const char *version, int required) {
  void *p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
  if (!p && version) p = dlsym(RTLD_NEXT, name);
  if (!p && required) {
    /* Not through tw_msg's formatting: nothing may depend on a resolved function here. */
    char line[160] = "threadwatch: fatal: cannot resolve the real ";
    strncat(line, name, sizeof(line) - strlen(line) - 1);
    tw_msg_str(line);
    _exit(127);
  }
  return p;
}

void tw__real_resolve(void) {
  /* Resolution is idempotent: two threads racing here store the same values. dlsym does not call
   * any hooked function in glibc 2.34+, so there is no recursion to break (hazard 1). */
#define TW_REAL(ret, name, params, version, required)                                  \
  if (!__atomic_load_n(&tw__real_##name, __ATOMIC_ACQUIRE))                            \
    __atomic_store_n(&tw__real_##name, (ret(*) params)(uintptr_t)lookup(#name, version, required), \
                     __ATOMIC_RELEASE);
#include "base/real.inc"
#undef TW_REAL
}
