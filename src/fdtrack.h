/* Which fds are pipes or eventfds (hazard 10), and who has read and written each one. */
#ifndef TW_FDTRACK_H
#define TW_FDTRACK_H

#include <stdint.h>

#include "atomic.h"
#include "event.h"
#include "limits.h"

enum tw_fd_kind { TW_FD_NONE = 0, TW_FD_PIPE_R = 1, TW_FD_PIPE_W = 2, TW_FD_EVENTFD = 3 };
#define TW_FD_KIND_MASK 0x0f
#define TW_FD_NONBLOCK 0x10

/* One byte per fd: kind | flags. Written by the hooks (any thread, signal handlers), read by all. */
extern _Atomic uint8_t tw__fdtab[TW_MAX_FDS];
/* Incremented each time an fd number starts a new tracked life, so stale facts are told apart. */
extern _Atomic uint32_t tw__fdgen[TW_MAX_FDS];
/* For a pipe end: the fd of the other end at creation (-1 once unknown). */
extern _Atomic int32_t tw__fdpeer[TW_MAX_FDS];

/* The fd's tracking byte; 0 for untracked or out-of-range fds. The whole cost of the read/write hooks
 * on ordinary fds. */
static inline uint8_t tw_fd_get(int fd) {
  return (unsigned)fd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdtab[fd]) : 0;
}

void tw_fd_track(int fd, uint8_t kind, int peer);
void tw_fd_untrack(int fd);
/* newfd now refers to what oldfd refers to (dup family): copies or clears the tracking byte. */
void tw_fd_copy(int oldfd, int newfd);
void tw_fd_set_nonblock(int fd, int on);

const char *tw_fd_kind_name(uint8_t kind);

/* Reporter side: the facts carried by TW_EV_FD_IO events. */
void tw_fdfacts_on_event(const struct tw_event *ev);
/* Number of distinct threads seen writing (dir = TW_EV_IO_WRITE) or reading fd in its current life,
 * and the id of the last one (0 if none). */
unsigned tw_fdfacts_count(int fd, unsigned dir, uint64_t *last_thread);
void tw_fdfacts_reset(void);

#endif
