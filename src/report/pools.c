/* The built-in suppressions of runtime-owned threads (pools.h). */
#include "report/pools.h"

#include <fnmatch.h>
#include <string.h>

#include "base/tw.h"
#include "report/symbolize.h"
#include "runtime/stackdepot.h"

/* Libraries whose own code creates pools that live until the process ends: matched against the
 * module of the creation stack's first frame (the caller of pthread_create). */
static const char *const pool_modules[] = {
    "libgomp.so*",     /* GCC's OpenMP: the team's threads stay parked for the next region */
    "libomp.so*",      /* LLVM's OpenMP */
    "libiomp5.so*",    /* Intel's OpenMP */
    "libtbb.so*",      /* oneTBB's market/RML workers */
    "libjemalloc.so*", /* jemalloc's background purging threads */
};

/* Functions anywhere in the creation stack that mean "a runtime's pool made this thread". */
static const char *const pool_functions[] = {
    "g_thread_pool_*", /* GLib's GThreadPool (g_thread_new called by the program stays its own) */
    "*jobserver*",     /* a Rust jobserver helper thread (rustc, cargo) */
    "*Jobserver*",
};

static const char *base(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path;
}

static bool owned_stack(uint32_t stack) {
  const uintptr_t *pcs;
  int n = tw_depot_get(stack, &pcs);
  if (n == 0) return false;
  for (int i = 0; i < n; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(pcs[i], f, TW_MAX_INLINE);
    for (int j = 0; j < nf; j++) {
      if (i == 0 && j == nf - 1 && f[j].module)
        for (size_t k = 0; k < TW_ARRAY_LEN(pool_modules); k++)
          if (fnmatch(pool_modules[k], base(f[j].module), 0) == 0) return true;
      if (f[j].function)
        for (size_t k = 0; k < TW_ARRAY_LEN(pool_functions); k++)
          if (fnmatch(pool_functions[k], f[j].function, 0) == 0) return true;
    }
  }
  return false;
}

bool tw_report_runtime_owned(const struct tw_report *r) {
  if (strcmp(r->kind, "thread-leak") != 0 || r->nthreads == 0) return false;
  for (uint32_t i = 0; i < r->nthreads; i++)
    if (!owned_stack(r->threads[i].created_at)) return false;
  return true;
}
