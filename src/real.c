/* Resolves the real functions behind every hook, once, from the table in real.inc. */
#include "real.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "tw.h"

#define TW_REAL(ret, name, params, version, required) ret(*tw__real_##name) params;
#include "real.inc"
#undef TW_REAL

static void *lookup(const char *name, const char *version, int required) {
  void *p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
  if (!p && version) p = dlsym(RTLD_NEXT, name);
  if (!p && required) {
    static const char msg[] = "threadwatch: fatal: cannot resolve the real ";
    ssize_t TW_UNUSED w = write(2, msg, sizeof(msg) - 1);
    w = write(2, name, strlen(name));
    w = write(2, "\n", 1);
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
#include "real.inc"
#undef TW_REAL
}
