/*
 * A request/response cycle over a socketpair that goes wrong: client sends a request on one end,
 * server answers on the other, then each waits for the other again (the client for a second answer,
 * the server for a second request). Each waits for the only thread that ever wrote to its peer
 * end: a deadlock wait-cycle, as with two pipes. main stays in pause().
 */
#include <pthread.h>
#include <sys/socket.h>

#include "tw_test.h"

static int sv[2]; /* sv[0]: the client's end, sv[1]: the server's */

static TW_NOINLINE void *client(void *arg) {
  char c;
  (void)arg;
  TW_CHECK(send(sv[0], "?", 1, 0) == 1);
  TW_CHECK(recv(sv[0], &c, 1, 0) == 1);
  TW_CHECK(recv(sv[0], &c, 1, 0) == 1); /* a second answer that never comes */
  return NULL;
}

static TW_NOINLINE void *server(void *arg) {
  char c;
  (void)arg;
  TW_CHECK(read(sv[1], &c, 1) == 1);
  TW_CHECK(write(sv[1], "!", 1) == 1);
  TW_CHECK(read(sv[1], &c, 1) == 1); /* a second request that never comes */
  return NULL;
}

int main(void) {
  pthread_t t;
  TW_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  TW_OK(pthread_create(&t, NULL, client, NULL));
  TW_OK(pthread_create(&t, NULL, server, NULL));
  tw_test_idle_forever();
}
