/* Holds a process as its tracer, for tests/attach/run.sh ("already traced"): PTRACE_SEIZE on every
 * thread of PID (nothing stops: seize alone does not), prints "tracing", then waits to be killed.
 *
 *   tracer PID */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  char dir[64];
  snprintf(dir, sizeof(dir), "/proc/%s/task", argv[1]);
  DIR *d = opendir(dir);
  if (!d) return 1;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    if (ptrace(PTRACE_SEIZE, atoi(e->d_name), NULL, NULL) != 0) {
      perror("PTRACE_SEIZE");
      return 1;
    }
  }
  closedir(d);
  printf("tracing\n");
  fflush(stdout);
  for (;;) pause();
}
