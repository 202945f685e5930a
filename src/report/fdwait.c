/* Describing socket and multiplexer waits (build.h): what each fd is, the way a person names it:
 * "listening socket fd 3 (0.0.0.0:11211)", "3 fds (listening 0.0.0.0:11211, eventfd 7, pipe 9)".
 * Socket addresses are asked of the kernel at report time (getsockname, getpeername). */
#include "report/build.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "runtime/fdset.h"
#include "runtime/fdtrack.h"

/* "127.0.0.1:8080", "[::1]:8080", "/run/x.sock", "@abstract", "unix"; "" when unknown. */
static void format_addr(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t n) {
  char host[INET6_ADDRSTRLEN] = "";
  buf[0] = '\0';
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    snprintf(buf, n, "%s:%u", host, ntohs(a->sin_port));
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    snprintf(buf, n, "[%s]:%u", host, ntohs(a->sin6_port));
  } else if (ss->ss_family == AF_UNIX) {
    const struct sockaddr_un *a = (const struct sockaddr_un *)ss;
    size_t plen = len > offsetof(struct sockaddr_un, sun_path)
                      ? len - offsetof(struct sockaddr_un, sun_path)
                      : 0;
    if (plen == 0 || (a->sun_path[0] == '\0' && plen == 1)) snprintf(buf, n, "unix");
    else if (a->sun_path[0] == '\0') snprintf(buf, n, "@%.*s", (int)(plen - 1), a->sun_path + 1);
    else snprintf(buf, n, "%.*s", (int)strnlen(a->sun_path, plen), a->sun_path);
  }
}

/* What a socket fd is: listening (and on what), connected (and to what), or neither. */
enum sock_role { ROLE_OTHER, ROLE_LISTENING, ROLE_CONNECTED };
static enum sock_role socket_role(int fd, char *addr, size_t n) {
  int listening = 0;
  socklen_t ol = sizeof(listening);
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  addr[0] = '\0';
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) == 0 && listening) {
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) format_addr(&ss, len, addr, n);
    return ROLE_LISTENING;
  }
  len = sizeof(ss);
  if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
    format_addr(&ss, len, addr, n);
    return ROLE_CONNECTED;
  }
  return ROLE_OTHER;
}

/* One member of a set, short: "pipe 9", "eventfd 7", "socketpair 5", "listening 0.0.0.0:11211",
 * "socket 8 to 10.0.0.2:80", "fd 4". */
static void short_fd(int fd, char *buf, size_t n) {
  uint8_t kind = tw_fd_get(fd) & TW_FD_KIND_MASK;
  char addr[112];
  switch (kind) {
    case TW_FD_PIPE_R:
    case TW_FD_PIPE_W: snprintf(buf, n, "pipe %d", fd); break;
    case TW_FD_EVENTFD: snprintf(buf, n, "eventfd %d", fd); break;
    case TW_FD_SPAIR_A:
    case TW_FD_SPAIR_B: snprintf(buf, n, "socketpair %d", fd); break;
    case TW_FD_EPOLL: snprintf(buf, n, "epoll %d", fd); break;
    case TW_FD_SOCK:
      switch (socket_role(fd, addr, sizeof(addr))) {
        case ROLE_LISTENING: snprintf(buf, n, "listening %s", addr[0] ? addr : "socket"); break;
        case ROLE_CONNECTED: snprintf(buf, n, "socket %d to %s", fd, addr); break;
        default: snprintf(buf, n, "socket %d", fd); break;
      }
      break;
    default: snprintf(buf, n, "fd %d", fd); break;
  }
}

static void socket_wait(char *object, size_t on, char *note, size_t nn,
                        const struct tw_wait_snap *w) {
  int fd = w->fd;
  uint8_t kind = tw_fd_get(fd), k = kind & TW_FD_KIND_MASK;
  char addr[112];
  if (k == TW_FD_SPAIR_A || k == TW_FD_SPAIR_B) {
    snprintf(object, on, "socketpair fd %d", fd);
    bool reading = tw_call_sock_reads(w->call);
    uint64_t ids[TW_FD_FACT_THREADS];
    unsigned c = tw_fdfacts_threads_kind(fd, reading ? TW_EV_IO_WRITE : TW_EV_IO_READ,
                                         tw_fd_peer_kind(kind), ids, TW_FD_FACT_THREADS);
    if (reading && c == 0) snprintf(note, nn, "no thread has written to the other end");
    else if (reading) snprintf(note, nn, "the other end was written by T%llu%s",
                               (unsigned long long)ids[0], c > 1 ? " and others" : "");
    return;
  }
  switch (socket_role(fd, addr, sizeof(addr))) {
    case ROLE_LISTENING:
      snprintf(object, on, "listening socket fd %d (%s)", fd, addr[0] ? addr : "?");
      break;
    case ROLE_CONNECTED: snprintf(object, on, "socket fd %d (to %s)", fd, addr); break;
    default: snprintf(object, on, "socket fd %d", fd); break;
  }
}

static void set_wait(char *object, size_t on, const struct tw_wait_snap *w) {
  struct tw_fdset_entry set[TW_FDSET_MAX];
  int n = tw_fdset_of_wait(w, set, TW_FDSET_MAX);
  bool epoll = w->call >= TW_CALL_EPOLL_WAIT && w->call <= TW_CALL_EPOLL_PWAIT2_TIMED;
  if (n < 0) {
    if (epoll) snprintf(object, on, "epoll fd %d (its set is not fully known)", w->fd);
    else snprintf(object, on, "an fd set that could not be read");
    return;
  }
  if (n == 0) {
    snprintf(object, on, epoll ? "epoll fd %d with no fd" : "no fd", w->fd);
    return;
  }
  size_t off = (size_t)snprintf(object, on, "%d fd%s (", n, n == 1 ? "" : "s");
  int shown = n < TW_FDSET_MAX ? n : TW_FDSET_MAX;
  for (int i = 0; i < shown && off < on; i++) {
    char one[128];
    short_fd(set[i].fd, one, sizeof(one));
    /* Room for this one, a separator and a closing "...)". */
    if (off + strlen(one) + 8 >= on) {
      off += (size_t)snprintf(object + off, on - off, "%s...", i ? ", " : "");
      break;
    }
    off += (size_t)snprintf(object + off, on - off, "%s%s", i ? ", " : "", one);
  }
  if (off < on) snprintf(object + off, on - off, ")");
}

void tw_describe_fd_wait(char *object, size_t on, char *note, size_t nn,
                         const struct tw_wait_snap *w) {
  if (nn) note[0] = '\0';
  if (tw_call_class(w->call) == TW_WC_SOCK) socket_wait(object, on, note, nn, w);
  else set_wait(object, on, w);
}
