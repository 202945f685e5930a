/*
 * A single-threaded parent reads a pipe that its forked child writes after a while: the parent is
 * the only thread of its process and blocked in read(), but the writer is another process, so it
 * is not "all asleep". The child writes once the parent is seen sleeping (it announces the read
 * through shared memory first) plus a few reporter ticks; the parent then reaps the child.
 */
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tw_test.h"

int main(void) {
  int fds[2];
  char c;
  _Atomic int *parent_reading =
      mmap(NULL, sizeof *parent_reading, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  TW_CHECK(parent_reading != MAP_FAILED);
  TW_CHECK(pipe(fds) == 0);
  pid_t parent = getpid(), child = fork();
  TW_CHECK(child >= 0);
  if (child == 0) {
    unsigned long spins = 0;
    close(fds[0]);
    while (!atomic_load(parent_reading) || tw_test_proc_state(parent) != 'S')
      tw_test_pause(&spins, "parent to block in read", parent, 0);
    tw_test_sleep_ms(500); /* several ticks of the parent's reporter */
    TW_CHECK(write(fds[1], "x", 1) == 1);
    _exit(0);
  }
  close(fds[1]);
  atomic_store(parent_reading, 1);
  TW_CHECK(read(fds[0], &c, 1) == 1 && c == 'x');
  int status;
  TW_CHECK(waitpid(child, &status, 0) == child);
  TW_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return 0;
}
