/*
 * An epoll echo server on localhost with a client thread: the server listens on 127.0.0.1 (an
 * ephemeral port), accepts non-blocking connections (accept4 with SOCK_NONBLOCK) and echoes what
 * comes; a stop eventfd ends its loop. The client connects, sends 200 messages and reads each echo
 * back with blocking recv; a second client is made non-blocking with ioctl(FIONBIO) and uses
 * MSG_DONTWAIT. The server waits in epoll_wait on a set with a listening socket (fed from outside
 * as far as anyone knows), the client in recv on a connected socket: never asleep. Silent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "tw_test.h"

static int listener, stop_fd;
static struct sockaddr_in addr;

static void *server(void *arg) {
  (void)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  TW_CHECK(ep >= 0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
  TW_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) == 0);
  ev.data.fd = stop_fd;
  TW_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd, &ev) == 0);
  for (;;) {
    struct epoll_event got[8];
    int n = epoll_wait(ep, got, 8, -1);
    TW_CHECK(n > 0);
    for (int i = 0; i < n; i++) {
      int fd = got[i].data.fd;
      if (fd == stop_fd) {
        close(ep);
        return NULL;
      }
      if (fd == listener) {
        int c = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        TW_CHECK(c >= 0);
        struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
        TW_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) == 0);
        continue;
      }
      char buf[256];
      ssize_t r = recv(fd, buf, sizeof(buf), 0);
      if (r > 0) {
        TW_CHECK(send(fd, buf, (size_t)r, 0) == r);
      } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        TW_CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0);
        close(fd);
      }
    }
  }
}

static int dial(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  TW_CHECK(s >= 0);
  TW_CHECK(connect(s, (struct sockaddr *)&addr, sizeof(addr)) == 0);
  return s;
}

static void *client(void *arg) {
  (void)arg;
  int s = dial();
  for (int i = 0; i < 200; i++) {
    char msg[16], back[16];
    int len = snprintf(msg, sizeof(msg), "m%d", i);
    TW_CHECK(send(s, msg, (size_t)len, 0) == len);
    ssize_t got = 0;
    while (got < len) {
      ssize_t r = recv(s, back + got, sizeof(back) - (size_t)got, 0);
      TW_CHECK(r > 0);
      got += r;
    }
    TW_CHECK(memcmp(msg, back, (size_t)len) == 0);
  }
  close(s);

  int nb = dial(), on = 1;
  TW_CHECK(ioctl(nb, FIONBIO, &on) == 0);
  char c;
  TW_CHECK(recv(nb, &c, 1, 0) == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
  TW_CHECK(send(nb, "z", 1, MSG_DONTWAIT) == 1);
  while (recv(nb, &c, 1, MSG_DONTWAIT) != 1) sched_yield();
  TW_CHECK(c == 'z');
  close(nb);
  return NULL;
}

int main(void) {
  listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  TW_CHECK(listener >= 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  TW_CHECK(bind(listener, (struct sockaddr *)&addr, sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  TW_CHECK(getsockname(listener, (struct sockaddr *)&addr, &len) == 0);
  TW_CHECK(listen(listener, 16) == 0);
  stop_fd = eventfd(0, EFD_CLOEXEC);
  TW_CHECK(stop_fd >= 0);
  pthread_t s, c;
  TW_OK(pthread_create(&s, NULL, server, NULL));
  TW_OK(pthread_create(&c, NULL, client, NULL));
  TW_OK(pthread_join(c, NULL));
  TW_CHECK(eventfd_write(stop_fd, 1) == 0);
  TW_OK(pthread_join(s, NULL));
  close(listener);
  close(stop_fd);
  return 0;
}
