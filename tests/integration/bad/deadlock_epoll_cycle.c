/*
 * Two event loops that only wake each other: loop_a waits in epoll_wait for eventfd to_a, which
 * only loop_b signals, and the other way round. Each signals the other once, handles the other's
 * signal, then both wait again: a deadlock wait-cycle of two epoll_wait calls. main stays in
 * pause().
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "tw_test.h"

static int to_a, to_b;

static TW_NOINLINE void event_loop(int mine, int theirs) {
  int ep = epoll_create1(0);
  TW_CHECK(ep >= 0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = mine};
  TW_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, mine, &ev) == 0);
  TW_CHECK(eventfd_write(theirs, 1) == 0);
  for (;;) {
    struct epoll_event got;
    TW_CHECK(epoll_wait(ep, &got, 1, -1) == 1); /* the second time: forever */
    eventfd_t v;
    TW_CHECK(eventfd_read(mine, &v) == 0);
  }
}

static void *loop_a(void *arg) {
  (void)arg;
  event_loop(to_a, to_b);
  return NULL;
}

static void *loop_b(void *arg) {
  (void)arg;
  event_loop(to_b, to_a);
  return NULL;
}

int main(void) {
  pthread_t t;
  to_a = eventfd(0, 0);
  to_b = eventfd(0, 0);
  TW_CHECK(to_a >= 0 && to_b >= 0);
  TW_OK(pthread_create(&t, NULL, loop_a, NULL));
  TW_OK(pthread_create(&t, NULL, loop_b, NULL));
  tw_test_idle_forever();
}
