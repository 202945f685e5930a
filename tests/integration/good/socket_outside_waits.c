/*
 * Long waits on sockets that another process could feed are neither deadlocks nor stalls: a server
 * thread blocks in accept() on a localhost listener, then in recv(), longer than the
 * THREADWATCH_STALL of socket_outside_waits.env (the client sleeps first). main joins only once
 * both are done (it watches a flag), so only the socket waits are long. Silent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "tw_test.h"

static int listener;
static volatile int finished;
static struct sockaddr_in addr;

static void *server(void *arg) {
  (void)arg;
  int c = accept(listener, NULL, NULL);
  TW_CHECK(c >= 0);
  char buf[8];
  TW_CHECK(recv(c, buf, sizeof(buf), 0) == 2);
  TW_CHECK(send(c, "ok", 2, 0) == 2);
  close(c);
  __atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *client(void *arg) {
  (void)arg;
  tw_test_sleep_ms(400); /* the server waits in accept() meanwhile */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  TW_CHECK(s >= 0);
  TW_CHECK(connect(s, (struct sockaddr *)&addr, sizeof(addr)) == 0);
  tw_test_sleep_ms(400); /* and in recv() */
  TW_CHECK(send(s, "hi", 2, 0) == 2);
  char buf[2];
  TW_CHECK(recv(s, buf, 2, MSG_WAITALL) == 2);
  close(s);
  __atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

int main(void) {
  listener = socket(AF_INET, SOCK_STREAM, 0);
  TW_CHECK(listener >= 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  TW_CHECK(bind(listener, (struct sockaddr *)&addr, sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  TW_CHECK(getsockname(listener, (struct sockaddr *)&addr, &len) == 0);
  TW_CHECK(listen(listener, 4) == 0);
  pthread_t s, c;
  TW_OK(pthread_create(&s, NULL, server, NULL));
  TW_OK(pthread_create(&c, NULL, client, NULL));
  while (__atomic_load_n(&finished, __ATOMIC_SEQ_CST) < 2) sched_yield();
  TW_OK(pthread_join(c, NULL));
  TW_OK(pthread_join(s, NULL));
  close(listener);
  return 0;
}
