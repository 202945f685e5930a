/* Reading the fd set of a multiplexer wait (fdset.h). */
#include "runtime/fdset.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "runtime/fdtrack.h"
#include "runtime/unwind_other.h"

static int poll_set(const struct tw_wait_snap *w, struct tw_fdset_entry *out, int max) {
  nfds_t n = (nfds_t)w->obj2;
  struct pollfd p[TW_FDSET_MAX];
  size_t take = n < (nfds_t)max ? n : (size_t)max;
  if (take > TW_FDSET_MAX) take = TW_FDSET_MAX;
  if (take && tw_peek((const void *)w->obj, p, take * sizeof(p[0])) != 0) return -1;
  int k = 0;
  for (size_t i = 0; i < take; i++) {
    if (p[i].fd < 0) continue; /* ignored by poll */
    uint8_t d = (uint8_t)(((p[i].events & (POLLIN | POLLPRI | POLLRDHUP)) ? TW_FDSET_IN : 0) |
                          ((p[i].events & POLLOUT) ? TW_FDSET_OUT : 0));
    out[k++] = (struct tw_fdset_entry){p[i].fd, d};
  }
  return n > take ? (int)(n > 1000000 ? 1000000 : n) : k;
}

static int select_set(const struct tw_wait_snap *w, struct tw_fdset_entry *out, int max) {
  int nfds = w->fd < FD_SETSIZE ? w->fd : FD_SETSIZE;
  fd_set r, wr;
  FD_ZERO(&r);
  FD_ZERO(&wr);
  size_t bytes = ((size_t)nfds + 7) / 8;
  if ((w->obj && tw_peek((const void *)w->obj, &r, bytes) != 0) ||
      (w->obj2 && tw_peek((const void *)w->obj2, &wr, bytes) != 0))
    return -1;
  int k = 0, total = 0;
  for (int fd = 0; fd < nfds; fd++) {
    uint8_t d = (uint8_t)((FD_ISSET(fd, &r) ? TW_FDSET_IN : 0) | (FD_ISSET(fd, &wr) ? TW_FDSET_OUT : 0));
    if (!d) continue;
    if (k < max) out[k++] = (struct tw_fdset_entry){fd, d};
    total++;
  }
  return total;
}

static int epoll_set(const struct tw_wait_snap *w, struct tw_fdset_entry *out, int max) {
  if (tw_fd_epoll_incomplete(w->fd)) return -1;
  int fds[TW_FDSET_MAX];
  uint32_t ev[TW_FDSET_MAX];
  int cap = max < TW_FDSET_MAX ? max : TW_FDSET_MAX;
  unsigned n = tw_fd_epoll_members(w->fd, fds, ev, (unsigned)cap);
  for (unsigned i = 0; i < n && i < (unsigned)cap; i++)
    out[i] = (struct tw_fdset_entry){
        fds[i], (uint8_t)(((ev[i] & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) ? TW_FDSET_IN : 0) |
                          ((ev[i] & EPOLLOUT) ? TW_FDSET_OUT : 0))};
  return (int)n;
}

int tw_fdset_of_wait(const struct tw_wait_snap *w, struct tw_fdset_entry *out, int max) {
  switch (w->call) {
    case TW_CALL_POLL:
    case TW_CALL_POLL_TIMED:
    case TW_CALL_PPOLL:
    case TW_CALL_PPOLL_TIMED: return poll_set(w, out, max);
    case TW_CALL_SELECT:
    case TW_CALL_SELECT_TIMED:
    case TW_CALL_PSELECT:
    case TW_CALL_PSELECT_TIMED: return select_set(w, out, max);
    case TW_CALL_EPOLL_WAIT:
    case TW_CALL_EPOLL_WAIT_TIMED:
    case TW_CALL_EPOLL_PWAIT:
    case TW_CALL_EPOLL_PWAIT_TIMED:
    case TW_CALL_EPOLL_PWAIT2:
    case TW_CALL_EPOLL_PWAIT2_TIMED: return epoll_set(w, out, max);
    default: return -1;
  }
}
