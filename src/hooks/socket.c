/* Hooks for sockets: which fds are sockets and which are the two ends of a socketpair (hazard 10),
 * whether they block (SOCK_NONBLOCK, accept4 flags, O_NONBLOCK, ioctl FIONBIO, MSG_DONTWAIT,
 * SO_RCVTIMEO), and the blocking calls on them as waits. A socketpair is fed by this process only
 * (its ends take part in wait-for cycles and all-asleep like a pipe's); any other socket may be
 * fed from outside and is never asleep. recv/send and read/write on an untracked fd cost one table
 * load; they run in signal handlers too (hazard 6) and stay async-signal-safe but for a thread's
 * first hook. All the blocking calls are cancellation points (hazard 4). */
#include <errno.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "control/reporter.h"
#include "hooks/hooks.h"
#include "race/hook.h"

/* --- making and following sockets --- */

TW_HOOK int socket(int domain, int type, int protocol) {
  int fd = TW_REAL_FN(socket)(domain, type, protocol);
  if (fd < 0 || TW_BYPASS(tw_tls())) return fd;
  tw_fd_track(fd, TW_FD_SOCK | ((type & SOCK_NONBLOCK) ? TW_FD_NONBLOCK : 0), tw_fd_new_obj());
  return fd;
}

/* Both ends are this process's: a blocked reader of one waits for the writers of the other, which
 * the reporter watches (started here, outside any signal handler, as pipe() does). */
TW_HOOK int socketpair(int domain, int type, int protocol, int sv[2]) {
  int r = TW_REAL_FN(socketpair)(domain, type, protocol, sv);
  if (r != 0 || TW_BYPASS(tw_tls())) return r;
  int saved = errno;
  tw_reporter_ensure_started();
  uint8_t nb = (type & SOCK_NONBLOCK) ? TW_FD_NONBLOCK : 0;
  uint32_t obj = tw_fd_new_obj();
  tw_fd_track(sv[0], TW_FD_SPAIR_A | nb, obj);
  tw_fd_track(sv[1], TW_FD_SPAIR_B | nb, obj);
  errno = saved;
  return r;
}

/* A listening socket waits for connections from anywhere: accept is a wait on its fd, and the fd it
 * returns is a socket (non-blocking with SOCK_NONBLOCK in accept4's flags). */
/* Inlined into the hooks: TW_TRACKED_IO names the caller of the exported function. */
static inline __attribute__((always_inline)) int accept_common(int fd, __SOCKADDR_ARG addr,
                                                              socklen_t *len, int flags, bool four) {
  uint8_t kind = tw_fd_get(fd);
  int r;
  if (kind == 0 || tw_fd_passive(kind)) {
    r = four ? TW_REAL_FN(accept4)(fd, addr, len, flags) : TW_REAL_FN(accept)(fd, addr, len);
  } else {
    r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, four ? TW_CALL_ACCEPT4 : TW_CALL_ACCEPT,
                      four ? TW_REAL_FN(accept4)(fd, addr, len, flags)
                           : TW_REAL_FN(accept)(fd, addr, len));
  }
  if (r >= 0 && !TW_BYPASS(tw_tls()))
    tw_fd_track(r, TW_FD_SOCK | ((flags & SOCK_NONBLOCK) ? TW_FD_NONBLOCK : 0), tw_fd_new_obj());
  return r;
}

TW_HOOK int accept(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len) {
  return accept_common(fd, addr, len, 0, false);
}

TW_HOOK int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len, int flags) {
  return accept_common(fd, addr, len, flags, true);
}

TW_HOOK int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || tw_fd_passive(kind)) return TW_REAL_FN(connect)(fd, addr, len);
  return TW_TRACKED_IO(fd, kind, TW_EV_IO_WRITE, TW_CALL_CONNECT,
                       TW_REAL_FN(connect)(fd, addr, len));
}

/* FIONBIO sets or clears O_NONBLOCK like fcntl(F_SETFL) does (hooks/fd.c). The third argument is
 * passed through as a pointer-sized word, as glibc's ioctl takes it. */
TW_HOOK int ioctl(int fd, unsigned long req, ...) {
  va_list ap;
  va_start(ap, req);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  int r = TW_REAL_FN(ioctl)(fd, req, arg);
  if (tw_unlikely(req == FIONBIO) && r == 0 && arg && tw_fd_get(fd) != 0)
    tw_fd_set_nonblock(fd, *(const int *)arg != 0);
  return r;
}

/* SO_RCVTIMEO / SO_SNDTIMEO: a socket whose calls time out never waits forever. */
TW_HOOK int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
  int r = TW_REAL_FN(setsockopt)(fd, level, name, val, len);
  if (r == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) && val &&
      len >= (socklen_t)sizeof(struct timeval) && (unsigned)fd < TW_MAX_FDS) {
    uint8_t k = tw_fd_get(fd);
    const struct timeval *tv = val;
    if (k && (tv->tv_sec || tv->tv_usec)) tw_store_relaxed(&tw__fdtab[fd], (uint8_t)(k | TW_FD_TIMEO));
  }
  return r;
}

/* --- data --- */

/* Whether a call with these flags on an fd of this kind can wait at all. */
static inline bool may_wait(uint8_t kind, int flags) {
  return !(flags & MSG_DONTWAIT) && !tw_fd_passive(kind);
}

TW_HOOK ssize_t recv(int fd, void *buf, size_t n, int flags) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || !may_wait(kind, flags)) return TW_REAL_FN(recv)(fd, buf, n, flags);
  ssize_t r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, TW_CALL_RECV,
                            TW_REAL_FN(recv)(fd, buf, n, flags));
  if (r > 0) tw_race_fd_read(fd);
  return r;
}

TW_HOOK ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || !may_wait(kind, flags))
    return TW_REAL_FN(__recv_chk)(fd, buf, n, buflen, flags);
  ssize_t r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, TW_CALL_RECV,
                            TW_REAL_FN(__recv_chk)(fd, buf, n, buflen, flags));
  if (r > 0) tw_race_fd_read(fd);
  return r;
}

TW_HOOK ssize_t recvfrom(int fd, void *restrict buf, size_t n, int flags, __SOCKADDR_ARG addr,
                         socklen_t *restrict len) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || !may_wait(kind, flags))
    return TW_REAL_FN(recvfrom)(fd, buf, n, flags, addr, len);
  ssize_t r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, TW_CALL_RECVFROM,
                            TW_REAL_FN(recvfrom)(fd, buf, n, flags, addr, len));
  if (r > 0) tw_race_fd_read(fd);
  return r;
}

TW_HOOK ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                               struct sockaddr *addr, socklen_t *len) { /* no glibc prototype */
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || !may_wait(kind, flags))
    return TW_REAL_FN(__recvfrom_chk)(fd, buf, n, buflen, flags, addr, len);
  ssize_t r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, TW_CALL_RECVFROM,
                            TW_REAL_FN(__recvfrom_chk)(fd, buf, n, buflen, flags, addr, len));
  if (r > 0) tw_race_fd_read(fd);
  return r;
}

TW_HOOK ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || !may_wait(kind, flags)) return TW_REAL_FN(recvmsg)(fd, msg, flags);
  ssize_t r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, TW_CALL_RECVMSG,
                            TW_REAL_FN(recvmsg)(fd, msg, flags));
  if (r > 0) tw_race_fd_read(fd);
  return r;
}

TW_HOOK ssize_t send(int fd, const void *buf, size_t n, int flags) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || !may_wait(kind, flags)) return TW_REAL_FN(send)(fd, buf, n, flags);
  tw_race_fd_writing(fd);
  return TW_TRACKED_IO(fd, kind, TW_EV_IO_WRITE, TW_CALL_SEND,
                       TW_REAL_FN(send)(fd, buf, n, flags));
}

TW_HOOK ssize_t sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG addr,
                       socklen_t len) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || !may_wait(kind, flags))
    return TW_REAL_FN(sendto)(fd, buf, n, flags, addr, len);
  tw_race_fd_writing(fd);
  return TW_TRACKED_IO(fd, kind, TW_EV_IO_WRITE, TW_CALL_SENDTO,
                       TW_REAL_FN(sendto)(fd, buf, n, flags, addr, len));
}

/* fds passed in an SCM_RIGHTS message may be open in another process from now on: every object
 * open now counts as shared, as after a fork (conservative: it only turns deadlocks into
 * "maybe fed from outside"). */
static void note_passed_fds(const struct msghdr *msg) {
  if (!msg || !msg->msg_control) return;
  for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
       c = CMSG_NXTHDR((struct msghdr *)msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) tw_fd_note_fork();
}

TW_HOOK ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_unlikely(msg && msg->msg_controllen)) note_passed_fds(msg);
  if (tw_likely(kind == 0) || !may_wait(kind, flags)) return TW_REAL_FN(sendmsg)(fd, msg, flags);
  tw_race_fd_writing(fd);
  return TW_TRACKED_IO(fd, kind, TW_EV_IO_WRITE, TW_CALL_SENDMSG,
                       TW_REAL_FN(sendmsg)(fd, msg, flags));
}
