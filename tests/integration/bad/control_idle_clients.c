/*
 * Issue 11 item 20 (socket): 8 clients connect to the process's dump socket, each sends the start
 * of a request ("dump", no newline) and then nothing more. They must not delay detection: an ABBA
 * deadlock formed once threadwatch has read the first client's bytes (seen from the client side:
 * SIOCOUTQ drops to 0) is reported within the usual time. Baseline: the reporter serves the control
 * socket inside its tick and waits up to 1 s for each client's newline (4 per tick), so the report
 * comes seconds late.
 */
#include <pthread.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "tw_test.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

TW_NOINLINE static void take_ab(void) {
  pthread_mutex_lock(&a);
  pthread_barrier_wait(&both_hold_one);
  pthread_mutex_lock(&b);
}

TW_NOINLINE static void take_ba(void) {
  pthread_mutex_lock(&b);
  pthread_barrier_wait(&both_hold_one);
  pthread_mutex_lock(&a);
}

static void *t1(void *arg) { take_ab(); return arg; }
static void *t2(void *arg) { take_ba(); return arg; }

int main(void) {
  int p[2];
  TW_CHECK(pipe(p) == 0); /* starts the reporter, which opens the dump socket */
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/threadwatch-%u/%ld.sock", (unsigned)geteuid(),
           (long)getpid());
  struct stat st;
  unsigned long spins = 0;
  while (stat(sa.sun_path, &st) != 0) tw_test_pause(&spins, "the dump socket", 0, 0);
  int connected = 0, first = -1;
  for (int i = 0; i < 8; i++) { /* idle: a request that never ends */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    TW_CHECK(s >= 0);
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) continue;
    TW_CHECK(send(s, "dump", 4, MSG_NOSIGNAL) == 4);
    if (first < 0) first = s;
    connected++;
  }
  printf("%d idle clients connected\n", connected);
  fflush(stdout);
  int unread = 1;
  spins = 0;
  while (first >= 0 && ioctl(first, SIOCOUTQ, &unread) == 0 && unread > 0)
    tw_test_pause(&spins, "threadwatch to read the first client's bytes", unread, 0);
  pthread_t x, y;
  TW_OK(pthread_barrier_init(&both_hold_one, NULL, 2));
  TW_OK(pthread_create(&x, NULL, t1, NULL));
  TW_OK(pthread_create(&y, NULL, t2, NULL));
  tw_test_idle_forever();
}
