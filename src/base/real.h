/* Pointers to the real (next) definitions of every hooked function, resolved from real.inc. */
#ifndef TW_REAL_H
#define TW_REAL_H

#include <pthread.h>
#include <semaphore.h>
#include <poll.h>
#include <setjmp.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/types.h>
#include <unistd.h>
#include <threads.h>
#include <time.h>

#define TW_REAL(ret, name, params, version, required) extern ret(*tw__real_##name) params;
#include "base/real.inc"
#undef TW_REAL

/* Resolves every pointer of real.inc (idempotent, thread-safe, re-entrancy safe). A missing required
 * symbol aborts with its name. */
void tw__real_resolve(void);

/* The real function `name`, resolved on first use. Calls that arrive while resolving is in progress
 * on this thread resolve just their own symbol (hazard 1). */
#define TW_REAL_FN(name) \
  (__builtin_expect(tw__real_##name != NULL, 1) ? tw__real_##name : (tw__real_resolve(), tw__real_##name))

#endif
