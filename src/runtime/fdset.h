/* The set of fds a multiplexer wait (wait class TW_WC_POLL: poll, ppoll, select, pselect,
 * epoll_wait, epoll_pwait, epoll_pwait2) waits on, read without stopping the thread: from the
 * caller's own arguments (a pollfd array, fd_sets: they stay put while the call blocks) or from
 * the epoll table (fdtrack.h). Used by the wait-for rules and by the report's description. */
#ifndef TW_RUNTIME_FDSET_H
#define TW_RUNTIME_FDSET_H

#include <stdint.h>

#include "runtime/registry.h"

/* Most fds of one set looked at. A larger set is described by its first ones and never taken as
 * asleep. */
#define TW_FDSET_MAX 64

enum { TW_FDSET_IN = 1, TW_FDSET_OUT = 2 };

struct tw_fdset_entry {
  int fd;
  uint8_t dirs; /* TW_FDSET_IN (readable, a connection) | TW_FDSET_OUT (writable) */
};

/* Fills out[] with up to max fds of the set and returns how many the set has (more than max: only
 * max are stored); -1 when it cannot be known (the memory is gone, an epoll instance that lost
 * track of a member). */
int tw_fdset_of_wait(const struct tw_wait_snap *w, struct tw_fdset_entry *out, int max);

#endif
