/* fd tracking: the flat kind table the I/O hooks consult, and the reporter's per-fd reader/writer facts. */
#include "runtime/fdtrack.h"

#include <stdlib.h>

_Atomic uint8_t tw__fdtab[TW_MAX_FDS];
_Atomic uint32_t tw__fdgen[TW_MAX_FDS];
_Atomic uint32_t tw__fdobj[TW_MAX_FDS];
_Atomic uint32_t tw__fdobj_at_fork;
_Atomic int32_t tw__fd_top;
_Atomic uint32_t tw__fd_epobj[TW_MAX_FDS];
_Atomic uint32_t tw__fd_epev[TW_MAX_FDS];
static _Atomic uint32_t next_obj;

/* Epoll instances (by object id, hashed) that lost track of a member: a collision only makes
 * another instance look incomplete, which never makes a wrong report. */
static _Atomic uint8_t epoll_incomplete[TW_MAX_FDS];

uint32_t tw_fd_new_obj(void) { return tw_add_relaxed(&next_obj, 1) + 1; }

void tw_fd_note_fork(void) { tw_store_relaxed(&tw__fdobj_at_fork, tw_load_relaxed(&next_obj)); }

void tw_fd_track(int fd, uint8_t kind, uint32_t obj) {
  if ((unsigned)fd >= TW_MAX_FDS) return;
  tw_add_relaxed(&tw__fdgen[fd], 1);
  tw_store_relaxed(&tw__fdobj[fd], obj);
  tw_store_relaxed(&tw__fd_epobj[fd], 0);
  tw_store_relaxed(&tw__fdtab[fd], kind);
  int32_t top = tw_load_relaxed(&tw__fd_top);
  while (fd >= top && !atomic_compare_exchange_weak(&tw__fd_top, &top, fd + 1)) continue;
}

void tw_fd_untrack(int fd) {
  if ((unsigned)fd >= TW_MAX_FDS) return;
  if (tw_load_relaxed(&tw__fdtab[fd]) == 0) return;
  uint32_t ep = tw_load_relaxed(&tw__fd_epobj[fd]), obj = tw_load_relaxed(&tw__fdobj[fd]);
  tw_store_relaxed(&tw__fdtab[fd], 0);
  tw_store_relaxed(&tw__fdobj[fd], 0);
  tw_store_relaxed(&tw__fd_epobj[fd], 0);
  if (ep && obj) {
    /* The kernel keeps an epoll registration while the file stays open through another fd (a
     * dup): the membership moves to that fd, or the instance is marked incomplete. */
    int top = tw_load_relaxed(&tw__fd_top);
    for (int i = 0; i < top; i++)
      if (tw_load_relaxed(&tw__fdobj[i]) == obj && tw_load_relaxed(&tw__fdtab[i]) != 0 &&
          tw_load_relaxed(&tw__fd_epobj[i]) == 0) {
        tw_store_relaxed(&tw__fd_epev[i], tw_load_relaxed(&tw__fd_epev[fd]));
        tw_store_relaxed(&tw__fd_epobj[i], ep);
        return;
      }
  }
}

void tw_fd_epoll_ctl(int epfd, int op, int fd, uint32_t events) {
  uint32_t ep = (unsigned)epfd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdobj[epfd]) : 0;
  if (!ep) return;
  if ((unsigned)fd >= TW_MAX_FDS) {
    tw_store_relaxed(&epoll_incomplete[ep % TW_MAX_FDS], 1);
    return;
  }
  if (op == 2 /* EPOLL_CTL_DEL */) {
    if (tw_load_relaxed(&tw__fd_epobj[fd]) == ep) tw_store_relaxed(&tw__fd_epobj[fd], 0);
    return;
  }
  if (tw_load_relaxed(&tw__fdtab[fd]) == 0) tw_fd_track(fd, TW_FD_OTHER, tw_fd_new_obj());
  uint32_t old = tw_load_relaxed(&tw__fd_epobj[fd]);
  if (old && old != ep) { /* one fd in two instances: both sets are no longer known for sure */
    tw_store_relaxed(&epoll_incomplete[old % TW_MAX_FDS], 1);
    tw_store_relaxed(&epoll_incomplete[ep % TW_MAX_FDS], 1);
  }
  tw_store_relaxed(&tw__fd_epev[fd], events);
  tw_store_relaxed(&tw__fd_epobj[fd], ep);
}

bool tw_fd_epoll_incomplete(int epfd) {
  uint32_t ep = (unsigned)epfd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdobj[epfd]) : 0;
  return !ep || tw_load_relaxed(&epoll_incomplete[ep % TW_MAX_FDS]) != 0;
}

unsigned tw_fd_epoll_members(int epfd, int *fds, uint32_t *events, unsigned max) {
  uint32_t ep = (unsigned)epfd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdobj[epfd]) : 0;
  if (!ep) return 0;
  unsigned n = 0;
  int top = tw_load_relaxed(&tw__fd_top);
  for (int i = 0; i < top; i++) {
    if (tw_load_relaxed(&tw__fd_epobj[i]) != ep) continue;
    if (n < max) {
      fds[n] = i;
      events[n] = tw_load_relaxed(&tw__fd_epev[i]);
    }
    n++;
  }
  return n;
}

void tw_fd_copy(int oldfd, int newfd) {
  if ((unsigned)newfd >= TW_MAX_FDS || oldfd == newfd) return;
  uint8_t k = tw_fd_get(oldfd);
  if (k == 0) {
    tw_fd_untrack(newfd);
    return;
  }
  tw_fd_track(newfd, k, tw_load_relaxed(&tw__fdobj[oldfd]));
}

void tw_fd_set_nonblock(int fd, int on) {
  if ((unsigned)fd >= TW_MAX_FDS) return;
  uint8_t k = tw_load_relaxed(&tw__fdtab[fd]);
  if (k == 0) return;
  tw_store_relaxed(&tw__fdtab[fd], (uint8_t)(on ? (k | TW_FD_NONBLOCK) : (k & ~TW_FD_NONBLOCK)));
}

const char *tw_fd_kind_name(uint8_t kind) {
  switch (kind & TW_FD_KIND_MASK) {
    case TW_FD_PIPE_R: return "pipe";
    case TW_FD_PIPE_W: return "pipe";
    case TW_FD_EVENTFD: return "eventfd";
    case TW_FD_SPAIR_A:
    case TW_FD_SPAIR_B: return "socketpair";
    case TW_FD_SOCK: return "socket";
    case TW_FD_EPOLL: return "epoll";
    default: return "fd";
  }
}

bool tw_fd_obj_open(int fd, uint8_t kind) {
  uint32_t obj = (unsigned)fd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdobj[fd]) : 0;
  if (!obj) return false;
  for (int i = 0; i < TW_MAX_FDS; i++)
    if (tw_load_relaxed(&tw__fdobj[i]) == obj &&
        (tw_load_relaxed(&tw__fdtab[i]) & TW_FD_KIND_MASK) == kind)
      return true;
  return false;
}

/* Reporter-owned facts, one slot per fd, allocated on the first event: which threads read and wrote
 * through this fd in its current life. An object's facts are those of all its open fds. */
struct fdfacts {
  uint32_t gen, obj;
  uint8_t n[3];                               /* distinct threads, TW_FD_FACT_THREADS + 1 = more */
  uint64_t who[3][TW_FD_FACT_THREADS];        /* indexed by TW_EV_IO_READ / TW_EV_IO_WRITE */
  uint64_t last[3];
};
static struct fdfacts *facts;
static int facts_top; /* one past the highest fd with facts: bounds the object scans */

void tw_fdfacts_on_event(const struct tw_event *ev) {
  int fd = (int)ev->a;
  unsigned dir = ev->aux;
  if ((unsigned)fd >= TW_MAX_FDS || dir > TW_EV_IO_WRITE) return;
  if (!facts && !(facts = calloc(TW_MAX_FDS, sizeof(*facts)))) return;
  struct fdfacts *f = &facts[fd];
  if (f->gen != ev->aux32) { /* the fd number began a new life: forget the old one's facts */
    *f = (struct fdfacts){0};
    f->gen = ev->aux32;
  }
  f->obj = (uint32_t)ev->c;
  if (fd >= facts_top) facts_top = fd + 1;
  f->last[dir] = ev->b;
  for (unsigned i = 0; i < f->n[dir] && i < TW_FD_FACT_THREADS; i++)
    if (f->who[dir][i] == ev->b) return;
  if (f->n[dir] < TW_FD_FACT_THREADS) f->who[dir][f->n[dir]] = ev->b;
  if (f->n[dir] <= TW_FD_FACT_THREADS) f->n[dir]++;
}

/* Whether the facts of fd i are about its current life and about object obj. */
static bool facts_current(int i, uint32_t obj) {
  return facts[i].obj == obj && facts[i].gen == tw_load_relaxed(&tw__fdgen[i]) &&
         tw_load_relaxed(&tw__fdtab[i]) != 0;
}

unsigned tw_fdfacts_threads(int fd, unsigned dir, uint64_t *ids, unsigned max) {
  if (!facts || (unsigned)fd >= TW_MAX_FDS || dir > TW_EV_IO_WRITE) return 0;
  uint32_t obj = tw_load_relaxed(&tw__fdobj[fd]);
  if (!obj) return 0;
  unsigned n = 0;
  bool more = false;
  for (int i = 0; i < facts_top; i++) {
    if (!facts_current(i, obj)) continue;
    more |= facts[i].n[dir] > TW_FD_FACT_THREADS;
    for (unsigned k = 0; k < facts[i].n[dir] && k < TW_FD_FACT_THREADS; k++) {
      bool dup = false;
      for (unsigned j = 0; j < n && j < max; j++) dup |= ids[j] == facts[i].who[dir][k];
      if (dup) continue;
      if (n < max) ids[n] = facts[i].who[dir][k];
      n++;
    }
  }
  return more && n <= TW_FD_FACT_THREADS ? TW_FD_FACT_THREADS + 1 : n;
}

unsigned tw_fdfacts_threads_kind(int fd, unsigned dir, uint8_t kind, uint64_t *ids, unsigned max) {
  if (!facts || (unsigned)fd >= TW_MAX_FDS || dir > TW_EV_IO_WRITE) return 0;
  uint32_t obj = tw_load_relaxed(&tw__fdobj[fd]);
  if (!obj) return 0;
  unsigned n = 0;
  bool more = false;
  for (int i = 0; i < facts_top; i++) {
    if (!facts_current(i, obj) || (tw_load_relaxed(&tw__fdtab[i]) & TW_FD_KIND_MASK) != kind)
      continue;
    more |= facts[i].n[dir] > TW_FD_FACT_THREADS;
    for (unsigned k = 0; k < facts[i].n[dir] && k < TW_FD_FACT_THREADS; k++) {
      bool dup = false;
      for (unsigned j = 0; j < n && j < max; j++) dup |= ids[j] == facts[i].who[dir][k];
      if (dup) continue;
      if (n < max) ids[n] = facts[i].who[dir][k];
      n++;
    }
  }
  return more && n <= TW_FD_FACT_THREADS ? TW_FD_FACT_THREADS + 1 : n;
}

unsigned tw_fdfacts_count(int fd, unsigned dir, uint64_t *last_thread) {
  *last_thread = 0;
  uint64_t ids[TW_FD_FACT_THREADS];
  unsigned n = tw_fdfacts_threads(fd, dir, ids, TW_FD_FACT_THREADS);
  if (n == 0) return 0;
  uint32_t obj = tw_load_relaxed(&tw__fdobj[fd]);
  for (int i = 0; i < facts_top; i++)
    if (facts_current(i, obj) && facts[i].last[dir]) *last_thread = facts[i].last[dir];
  return n;
}

void tw_fdfacts_reset(void) {
  free(facts);
  facts = NULL;
  facts_top = 0;
}

void tw_fdfacts_after_fork_child(bool consistent) {
  if (consistent) return;
  facts = NULL;
  facts_top = 0;
}
