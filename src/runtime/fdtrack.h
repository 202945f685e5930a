/* Which fds are pipes, eventfds, sockets or epoll instances (hazard 10), who has read and written
 * each pipe, eventfd and socketpair, and which fds each epoll instance watches. */
#ifndef TW_FDTRACK_H
#define TW_FDTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/atomic.h"
#include "runtime/event.h"
#include "base/limits.h"

/* SPAIR_A/SPAIR_B: the two ends of a socketpair (what is written on one is read on the other).
 * SOCK: any other socket (inet or unix, listening, connected or not): its peer is another process
 * as far as threadwatch knows. EPOLL: an epoll instance. OTHER: an fd of no kind threadwatch
 * follows that an epoll instance watches (a timerfd, a terminal): tracked only so that its close
 * is seen. */
enum tw_fd_kind {
  TW_FD_NONE = 0,
  TW_FD_PIPE_R = 1,
  TW_FD_PIPE_W = 2,
  TW_FD_EVENTFD = 3,
  TW_FD_SPAIR_A = 4,
  TW_FD_SPAIR_B = 5,
  TW_FD_SOCK = 6,
  TW_FD_EPOLL = 7,
  TW_FD_OTHER = 8,
};
#define TW_FD_KIND_MASK 0x0f
#define TW_FD_NONBLOCK 0x10
/* SO_RCVTIMEO or SO_SNDTIMEO set: its blocking calls end by themselves (never part of a deadlock). */
#define TW_FD_TIMEO 0x20

/* The ends whose facts and wait-for rules are this process's business: pipes, eventfds,
 * socketpairs. */
static inline bool tw_fd_kind_internal(uint8_t kind) {
  kind &= TW_FD_KIND_MASK;
  return kind >= TW_FD_PIPE_R && kind <= TW_FD_SPAIR_B;
}
static inline bool tw_fd_kind_socket(uint8_t kind) {
  kind &= TW_FD_KIND_MASK;
  return kind == TW_FD_SPAIR_A || kind == TW_FD_SPAIR_B || kind == TW_FD_SOCK;
}
/* The kind at the other end of a pipe or socketpair end (an eventfd is its own other end). */
static inline uint8_t tw_fd_peer_kind(uint8_t kind) {
  switch (kind & TW_FD_KIND_MASK) {
    case TW_FD_PIPE_R: return TW_FD_PIPE_W;
    case TW_FD_PIPE_W: return TW_FD_PIPE_R;
    case TW_FD_SPAIR_A: return TW_FD_SPAIR_B;
    case TW_FD_SPAIR_B: return TW_FD_SPAIR_A;
    default: return (uint8_t)(kind & TW_FD_KIND_MASK);
  }
}
/* I/O on it is nobody's wait and no fact: an OTHER fd, or a non-blocking socket to the outside. */
static inline bool tw_fd_passive(uint8_t kind) {
  uint8_t k = kind & TW_FD_KIND_MASK;
  return k == TW_FD_OTHER || (k == TW_FD_SOCK && (kind & TW_FD_NONBLOCK));
}

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

/* One past the highest fd ever tracked: bounds the scans of the tables. */
extern _Atomic int32_t tw__fd_top;

/* Epoll membership, per watched fd: the object id of the epoll instance that watches it (0: none)
 * and the events it watches for (EPOLLIN, EPOLLOUT, ...). An fd watched by two instances at once
 * marks both as incomplete (their sets are then taken as fed from outside). */
extern _Atomic uint32_t tw__fd_epobj[TW_MAX_FDS];
extern _Atomic uint32_t tw__fd_epev[TW_MAX_FDS];
/* epoll_ctl(ADD or MOD) of fd on the instance epfd (events), DEL (events ignored). */
void tw_fd_epoll_ctl(int epfd, int op, int fd, uint32_t events);
/* Whether the epoll instance of epfd lost track of some member (an fd of 65536 or more, an fd in
 * two instances). */
bool tw_fd_epoll_incomplete(int epfd);
/* The fds the epoll instance of epfd watches, up to max (fds[i], events[i]); returns the count
 * (all of them, even past max). */
unsigned tw_fd_epoll_members(int epfd, int *fds, uint32_t *events, unsigned max);

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
/* The same, counting only the fds of the object that have kind `kind` (a socketpair reader waits
 * for the writers of the other end). */
unsigned tw_fdfacts_threads_kind(int fd, unsigned dir, uint8_t kind, uint64_t *ids, unsigned max);
/* Whether some open fd of this process refers to the object of `fd` with the given kind. */
bool tw_fd_obj_open(int fd, uint8_t kind);
void tw_fdfacts_reset(void);
/* In a forked child: the facts stay (the pipes do), unless the fork was not consistent (the reporter
 * may have been writing them): then they are abandoned. */
void tw_fdfacts_after_fork_child(bool consistent);

#endif
