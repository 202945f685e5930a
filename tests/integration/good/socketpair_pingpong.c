/*
 * Two threads play ping-pong over a socketpair (send/recv on one side, write/read on the other),
 * then over a non-blocking socketpair with poll; every message is answered. Silent.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "tw_test.h"

#define ROUNDS 500

static int sv[2], nb[2];

static void *pong(void *arg) {
  (void)arg;
  char c;
  for (int i = 0; i < ROUNDS; i++) {
    TW_CHECK(read(sv[1], &c, 1) == 1);
    TW_CHECK(write(sv[1], &c, 1) == 1);
  }
  for (int i = 0; i < ROUNDS; i++) {
    struct pollfd p = {nb[1], POLLIN, 0};
    TW_CHECK(poll(&p, 1, -1) == 1);
    TW_CHECK(recv(nb[1], &c, 1, 0) == 1);
    TW_CHECK(send(nb[1], &c, 1, 0) == 1);
  }
  return NULL;
}

int main(void) {
  TW_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  TW_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, nb) == 0);
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, pong, NULL));
  char c = 'x';
  for (int i = 0; i < ROUNDS; i++) {
    TW_CHECK(send(sv[0], &c, 1, 0) == 1);
    TW_CHECK(recv(sv[0], &c, 1, 0) == 1);
  }
  for (int i = 0; i < ROUNDS; i++) {
    TW_CHECK(send(nb[0], &c, 1, 0) == 1);
    struct pollfd p = {nb[0], POLLIN, 0};
    TW_CHECK(poll(&p, 1, -1) == 1);
    TW_CHECK(recv(nb[0], &c, 1, 0) == 1);
  }
  TW_OK(pthread_join(t, NULL));
  for (int i = 0; i < 2; i++) close(sv[i]), close(nb[i]);
  return 0;
}
