/*
 * Timed multiplexer waits that time out while every other thread is blocked: poll, ppoll, select,
 * pselect and epoll_wait on a pipe nobody writes, each with a timeout, while main joins the thread.
 * A timed wait ends by itself: never a deadlock. Also poll(NULL, 0, ms), a sleep. Silent.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "tw_test.h"

static int p[2];

static void *waiter(void *arg) {
  (void)arg;
  struct pollfd pf = {p[0], POLLIN, 0};
  for (int i = 0; i < 3; i++) TW_CHECK(poll(&pf, 1, 60) == 0);
  struct timespec ts = {0, 60 * 1000 * 1000};
  TW_CHECK(ppoll(&pf, 1, &ts, NULL) == 0);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  struct timeval tv = {0, 60 * 1000};
  TW_CHECK(select(p[0] + 1, &r, NULL, NULL, &tv) == 0);
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  TW_CHECK(pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL) == 0);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
  TW_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
  TW_CHECK(epoll_wait(ep, &ev, 1, 60) == 0);
  TW_CHECK(epoll_pwait(ep, &ev, 1, 60, NULL) == 0);
  close(ep);
  TW_CHECK(poll(NULL, 0, 50) == 0);
  return NULL;
}

int main(void) {
  TW_CHECK(pipe(p) == 0);
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, waiter, NULL));
  TW_OK(pthread_join(t, NULL));
  return 0;
}
