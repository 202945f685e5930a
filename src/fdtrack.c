/* fd tracking: the flat kind table the I/O hooks consult, and the reporter's per-fd reader/writer facts. */
#include "fdtrack.h"

#include <stdlib.h>

_Atomic uint8_t tw__fdtab[TW_MAX_FDS];
_Atomic uint32_t tw__fdgen[TW_MAX_FDS];
_Atomic int32_t tw__fdpeer[TW_MAX_FDS];

void tw_fd_track(int fd, uint8_t kind, int peer) {
  if ((unsigned)fd >= TW_MAX_FDS) return;
  tw_add_relaxed(&tw__fdgen[fd], 1);
  tw_store_relaxed(&tw__fdpeer[fd], peer);
  tw_store_relaxed(&tw__fdtab[fd], kind);
}

void tw_fd_untrack(int fd) {
  if ((unsigned)fd >= TW_MAX_FDS) return;
  if (tw_load_relaxed(&tw__fdtab[fd]) == 0) return;
  tw_store_relaxed(&tw__fdtab[fd], 0);
  tw_store_relaxed(&tw__fdpeer[fd], -1);
}

void tw_fd_copy(int oldfd, int newfd) {
  if ((unsigned)newfd >= TW_MAX_FDS || oldfd == newfd) return;
  uint8_t k = tw_fd_get(oldfd);
  if (k == 0) {
    tw_fd_untrack(newfd);
    return;
  }
  tw_fd_track(newfd, k, (unsigned)oldfd < TW_MAX_FDS ? tw_load_relaxed(&tw__fdpeer[oldfd]) : -1);
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
    default: return "fd";
  }
}

/* Reporter-owned facts, one slot per fd, allocated on the first event. */
struct fdfacts {
  uint32_t gen;
  unsigned seen[3];       /* indexed by TW_EV_IO_READ / TW_EV_IO_WRITE */
  uint64_t last[3];
};
static struct fdfacts *facts;

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
  f->seen[dir]++;
  f->last[dir] = ev->b;
}

unsigned tw_fdfacts_count(int fd, unsigned dir, uint64_t *last_thread) {
  *last_thread = 0;
  if (!facts || (unsigned)fd >= TW_MAX_FDS || dir > TW_EV_IO_WRITE) return 0;
  struct fdfacts *f = &facts[fd];
  if (f->gen != tw_load_relaxed(&tw__fdgen[fd])) return 0;
  *last_thread = f->last[dir];
  return f->seen[dir];
}

void tw_fdfacts_reset(void) {
  free(facts);
  facts = NULL;
}
