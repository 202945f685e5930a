/* A process for the jstack-like part of `threadwatch dump` (tests/dump/run.sh): transfer and audit
 * deadlock on two named mutexes ("accounts", "ledger"), each holding one; an event loop waits in
 * epoll_wait on a listening socket, an eventfd and a pipe; a poller sleeps; main stays in pause(). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "threadwatch.h"

static pthread_mutex_t accounts = PTHREAD_MUTEX_INITIALIZER, ledger = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;

static __attribute__((noinline)) void take_two(pthread_mutex_t *first, pthread_mutex_t *second) {
  pthread_mutex_lock(first);
  pthread_barrier_wait(&both_hold);
  pthread_mutex_lock(second); /* held by the other one: forever */
}

static void *transfer(void *arg) {
  (void)arg;
  take_two(&accounts, &ledger);
  return NULL;
}

static void *audit(void *arg) {
  (void)arg;
  take_two(&ledger, &accounts);
  return NULL;
}

static void *event_loop(void *arg) {
  (void)arg;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(l, (struct sockaddr *)&a, sizeof(a));
  listen(l, 4);
  int ev = eventfd(0, 0), p[2];
  if (pipe(p) != 0) return NULL;
  int ep = epoll_create1(0);
  int fds[3] = {l, ev, p[0]};
  for (int i = 0; i < 3; i++) {
    struct epoll_event e = {.events = EPOLLIN, .data.fd = fds[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
  }
  struct epoll_event got;
  epoll_wait(ep, &got, 1, -1); /* nobody connects */
  return NULL;
}

static void *poller(void *arg) {
  (void)arg;
  for (;;) sleep(100);
  return NULL;
}

int main(void) {
  threadwatch_name_lock(&accounts, "accounts");
  threadwatch_name_lock(&ledger, "ledger");
  pthread_barrier_init(&both_hold, NULL, 2);
  pthread_t t;
  pthread_create(&t, NULL, transfer, NULL);
  pthread_create(&t, NULL, audit, NULL);
  pthread_create(&t, NULL, event_loop, NULL);
  pthread_create(&t, NULL, poller, NULL);
  for (;;) pause();
}
