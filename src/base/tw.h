/* Internal umbrella: branch hints, visibility, the assert/check macros shared by every module. */
#ifndef TW_TW_H
#define TW_TW_H

#include <stddef.h>
#include <stdint.h>

#define tw_likely(x)   __builtin_expect(!!(x), 1)
#define tw_unlikely(x) __builtin_expect(!!(x), 0)
#define TW_EXPORT      __attribute__((visibility("default")))
#define TW_NOINLINE    __attribute__((noinline))
#define TW_UNUSED      __attribute__((unused))
#define TW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Aborts the process with file:line and the failed expression. Used for the tool's own invariants. */
void tw__check_fail(const char *file, int line, const char *expr) __attribute__((noreturn));

/* Always-on invariant check (like TSan's CHECK). */
#define tw_check(c) \
  do { if (tw_unlikely(!(c))) tw__check_fail(__FILE__, __LINE__, #c); } while (0)

/* Debug-only invariant check (TW_DEBUG=ON). */
#ifdef TW_DEBUG
#define tw_assert(c) tw_check(c)
#else
#define tw_assert(c) ((void)0)
#endif

/* Monotonic time in nanoseconds (vDSO, no syscall). */
uint64_t tw__now_ns(void);

#endif
