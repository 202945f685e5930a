/* Helper of sh/priv_drop_setuid.sh: starts as root, makes threadwatch start its reporter (a pipe
 * and a thread blocked reading it), then drops privileges for good to uid/gid 65534 (nobody), as
 * servers do after start-up. Then:
 *   priv_drop exit   creates a thread in leaky_spawn that exits and is never joined, and returns 0
 *                    (a thread-leak report at exit, status 66);
 *   priv_drop wait   prints "dropped" and waits forever (for `threadwatch dump`). */
#include <grp.h>
#include <pthread.h>
#include <stdatomic.h>

#include "tw_test.h"

static int never[2];
static _Atomic pid_t worker_tid;

static void *blocked_reader(void *arg) {
  char c;
  (void)arg;
  return (void *)read(never[0], &c, 1);
}

static void *leaky_worker(void *arg) {
  atomic_store(&worker_tid, tw_test_gettid());
  return arg;
}

TW_NOINLINE static void leaky_spawn(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, leaky_worker, NULL));
}

int main(int argc, char **argv) {
  pthread_t t;
  TW_CHECK(argc > 1);
  TW_CHECK(pipe(never) == 0);
  TW_OK(pthread_create(&t, NULL, blocked_reader, NULL));
  TW_OK(pthread_detach(t));
  TW_CHECK(setgroups(0, NULL) == 0);
  TW_CHECK(setgid(65534) == 0);
  TW_CHECK(setuid(65534) == 0);
  if (strcmp(argv[1], "wait") == 0) {
    printf("dropped\n");
    fflush(stdout);
    tw_test_idle_forever();
  }
  leaky_spawn();
  unsigned long spins = 0;
  while (atomic_load(&worker_tid) == 0) tw_test_pause(&spins, "worker start", 0, 0);
  tw_test_wait_gone(atomic_load(&worker_tid));
  return 0;
}
