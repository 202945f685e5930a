/* Two threads with names that are not ASCII, both left blocked on a pipe at exit: one named "café"
 * (valid UTF-8: the JSON keeps it as it is) and one whose name has a byte that is not UTF-8
 * (escaped as \u00ff: the JSON line stays valid UTF-8). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "tw_test.h"

static int fds[2];
static _Atomic int named;
static _Atomic pid_t tids[2];

static void *reader(void *arg) {
  TW_OK(pthread_setname_np(pthread_self(), (const char *)arg));
  atomic_store(&tids[atomic_fetch_add(&named, 1)], tw_test_gettid());
  char c;
  TW_CHECK(read(fds[0], &c, 1) == 1); /* nobody writes: blocked until exit */
  return NULL;
}

TW_NOINLINE void spawn_named(const char *name) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, reader, (void *)name));
}

int main(void) {
  TW_CHECK(pipe(fds) == 0);
  spawn_named("caf\xc3\xa9");
  spawn_named("bad\xff" "name");
  unsigned long spins = 0;
  while (atomic_load(&named) < 2 || !atomic_load(&tids[0]) || !atomic_load(&tids[1]))
    tw_test_pause(&spins, "names", 0, 0);
  /* Both block in read; the exit-time check sees them blocked. */
  tw_test_wait_in_syscall(atomic_load(&tids[0]), SYS_read);
  tw_test_wait_in_syscall(atomic_load(&tids[1]), SYS_read);
  return 0;
}
