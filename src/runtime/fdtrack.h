/* Which fds are pipes or eventfds (hazard 10), and who has read and written each one. */
#ifndef TW_FDTRACK_H
#define TW_FDTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/atomic.h"
#include "runtime/event.h"
#include "base/limits.h"

enum tw_fd_kind { TW_FD_NONE = 0, TW_FD_PIPE_R = 1, TW_FD_PIPE_W = 2, TW_FD_EVENTFD = 3 };
#define TW_FD_KIND_MASK 0x0f
#define TW_FD_NONBLOCK 0x10

/* One byte per fd: kind | flags. Written by the hooks (any thread, signal handlers), read by all. */
extern _Atomic uint8_t tw__fdtab[TW_MAX_FDS];
/* Incremented each time an fd number starts a new tracked life, so stale facts are told apart. */
extern _Atomic uint32_t tw__fdgen[TW_MAX_FDS];
/* The object the fd refers to: one id per pipe (both ends) or eventfd, kept through dup. 0 = none. */
extern _Atomic uint32_t tw__fdobj[TW_MAX_FDS];
/* The last object id handed out before the latest fork/posix_spawn: objects up to it may also be
 * open in another process (whose reads and writes threadwatch cannot see). */
extern _Atomic uint32_t tw__fdobj_at_fork;

/* The fd's tracking byte; 0 for untracked or out-of-range fds. The whole cost of the read/write hooks
 * on ordinary fds. */
static inline uint8_t tw_fd_get(int fd) {
  return (unsigned)fd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdtab[fd]) : 0;
}

/* A new pipe/eventfd object id. */
uint32_t tw_fd_new_obj(void);
void tw_fd_track(int fd, uint8_t kind, uint32_t obj);
/* A process is about to be forked or spawned: every open object may be shared with it from now. */
void tw_fd_note_fork(void);
void tw_fd_untrack(int fd);
/* newfd now refers to what oldfd refers to (dup family): copies or clears the tracking byte. */
void tw_fd_copy(int oldfd, int newfd);
void tw_fd_set_nonblock(int fd, int on);

const char *tw_fd_kind_name(uint8_t kind);

/* Reporter side: the facts carried by TW_EV_FD_IO events. */
void tw_fdfacts_on_event(const struct tw_event *ev);
/* Number of distinct threads seen writing (dir = TW_EV_IO_WRITE) or reading the object of `fd`
 * through any of its open fds, and the id of the last one (0 if none). */
unsigned tw_fdfacts_count(int fd, unsigned dir, uint64_t *last_thread);
/* The same threads by id: up to `max` are stored in ids; the return value is the distinct count
 * (TW_FD_FACT_THREADS + 1 means "more than that": the rest are not remembered). */
unsigned tw_fdfacts_threads(int fd, unsigned dir, uint64_t *ids, unsigned max);
/* Whether some open fd of this process refers to the object of `fd` with the given kind. */
bool tw_fd_obj_open(int fd, uint8_t kind);
void tw_fdfacts_reset(void);
/* In a forked child: the facts stay (the pipes do), unless the fork was not consistent (the reporter
 * may have been writing them): then they are abandoned. */
void tw_fdfacts_after_fork_child(bool consistent);

#endif
