/* Hooks for the multiplexers: poll, ppoll, select, pselect, and epoll (its instances, the fds each
 * one watches through epoll_ctl, its waits). A wait on a set of fds that only this process can feed
 * (pipes, eventfds, socketpairs) takes part in wait-for cycles and all-asleep like a pipe read; a
 * set with a socket to another process, or an fd of a kind threadwatch does not follow, can be
 * woken from outside. A zero timeout is never a wait; poll(NULL, 0, ms) is a sleep. All the waits
 * are cancellation points (hazard 4); poll, ppoll, select and pselect are async-signal-safe and
 * stay so but for a thread's first hook. The sets themselves are read by the reporter from the
 * caller's arguments (they stay put while the call blocks) and the epoll table. */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "control/reporter.h"
#include "hooks/hooks.h"

static inline uint64_t ts_ns(const struct timespec *ts) {
  return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* --- poll and select: the set is the caller's array --- */

TW_HOOK int poll(struct pollfd *fds, nfds_t n, int timeout) {
  if (timeout == 0) return TW_REAL_FN(poll)(fds, n, timeout);
  if (n == 0 && timeout > 0) /* the portable millisecond sleep */
    return TW_WAIT_CALL(TW_CALL_POLL_SLEEP, (uint64_t)timeout * 1000000ull, 0, -1,
                        TW_REAL_FN(poll)(fds, n, timeout));
  return TW_WAIT_CALL(timeout < 0 ? TW_CALL_POLL : TW_CALL_POLL_TIMED, (uintptr_t)fds, n, -1,
                      TW_REAL_FN(poll)(fds, n, timeout));
}

TW_HOOK int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen) {
  if (!TW_REAL_FN(__poll_chk)) return TW_REAL_FN(poll)(fds, n, timeout);
  if (timeout == 0) return TW_REAL_FN(__poll_chk)(fds, n, timeout, fdslen);
  return TW_WAIT_CALL(timeout < 0 ? TW_CALL_POLL : TW_CALL_POLL_TIMED, (uintptr_t)fds, n, -1,
                      TW_REAL_FN(__poll_chk)(fds, n, timeout, fdslen));
}

TW_HOOK int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *ss) {
  if (tmo && ts_ns(tmo) == 0) return TW_REAL_FN(ppoll)(fds, n, tmo, ss);
  return TW_WAIT_CALL(tmo ? TW_CALL_PPOLL_TIMED : TW_CALL_PPOLL, (uintptr_t)fds, n, -1,
                      TW_REAL_FN(ppoll)(fds, n, tmo, ss));
}

TW_HOOK int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                        const sigset_t *ss, size_t fdslen) {
  if (!TW_REAL_FN(__ppoll_chk)) return TW_REAL_FN(ppoll)(fds, n, tmo, ss);
  if (tmo && ts_ns(tmo) == 0) return TW_REAL_FN(__ppoll_chk)(fds, n, tmo, ss, fdslen);
  return TW_WAIT_CALL(tmo ? TW_CALL_PPOLL_TIMED : TW_CALL_PPOLL, (uintptr_t)fds, n, -1,
                      TW_REAL_FN(__ppoll_chk)(fds, n, tmo, ss, fdslen));
}

/* select's wait: obj = the read set, obj2 = the write set, fd = nfds (the except set is out-of-band
 * data, which only the peer of a socket sends). */
TW_HOOK int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
  if (tv && tv->tv_sec == 0 && tv->tv_usec == 0) return TW_REAL_FN(select)(n, r, w, e, tv);
  return TW_WAIT_CALL(tv ? TW_CALL_SELECT_TIMED : TW_CALL_SELECT, (uintptr_t)r, (uintptr_t)w, n,
                      TW_REAL_FN(select)(n, r, w, e, tv));
}

TW_HOOK int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                    const sigset_t *ss) {
  if (ts && ts_ns(ts) == 0) return TW_REAL_FN(pselect)(n, r, w, e, ts, ss);
  return TW_WAIT_CALL(ts ? TW_CALL_PSELECT_TIMED : TW_CALL_PSELECT, (uintptr_t)r, (uintptr_t)w, n,
                      TW_REAL_FN(pselect)(n, r, w, e, ts, ss));
}

/* --- epoll: the set is kept in the fd table (runtime/fdtrack.h) --- */

static int track_epoll(int fd) {
  if (fd < 0 || TW_BYPASS(tw_tls())) return fd;
  int saved = errno;
  tw_reporter_ensure_started(); /* its waits may be on fds only this process feeds */
  tw_fd_track(fd, TW_FD_EPOLL, tw_fd_new_obj());
  errno = saved;
  return fd;
}

TW_HOOK int epoll_create(int size) { return track_epoll(TW_REAL_FN(epoll_create)(size)); }

TW_HOOK int epoll_create1(int flags) { return track_epoll(TW_REAL_FN(epoll_create1)(flags)); }

TW_HOOK int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev) {
  int r = TW_REAL_FN(epoll_ctl)(epfd, op, fd, ev);
  if (r == 0 && tw_fd_get(epfd) != 0 && !TW_BYPASS(tw_tls()))
    tw_fd_epoll_ctl(epfd, op, fd, ev && op != EPOLL_CTL_DEL ? ev->events : 0);
  return r;
}

TW_HOOK int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout) {
  if (timeout == 0) return TW_REAL_FN(epoll_wait)(epfd, evs, max, timeout);
  return TW_WAIT_CALL(timeout < 0 ? TW_CALL_EPOLL_WAIT : TW_CALL_EPOLL_WAIT_TIMED, 0, 0, epfd,
                      TW_REAL_FN(epoll_wait)(epfd, evs, max, timeout));
}

TW_HOOK int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
                        const sigset_t *ss) {
  if (timeout == 0) return TW_REAL_FN(epoll_pwait)(epfd, evs, max, timeout, ss);
  return TW_WAIT_CALL(timeout < 0 ? TW_CALL_EPOLL_PWAIT : TW_CALL_EPOLL_PWAIT_TIMED, 0, 0, epfd,
                      TW_REAL_FN(epoll_pwait)(epfd, evs, max, timeout, ss));
}

TW_HOOK int epoll_pwait2(int epfd, struct epoll_event *evs, int max, const struct timespec *tmo,
                         const sigset_t *ss) {
  if (!TW_REAL_FN(epoll_pwait2)) {
    errno = ENOSYS;
    return -1;
  }
  if (tmo && ts_ns(tmo) == 0) return TW_REAL_FN(epoll_pwait2)(epfd, evs, max, tmo, ss);
  return TW_WAIT_CALL(tmo ? TW_CALL_EPOLL_PWAIT2_TIMED : TW_CALL_EPOLL_PWAIT2, 0, 0, epfd,
                      TW_REAL_FN(epoll_pwait2)(epfd, evs, max, tmo, ss));
}
