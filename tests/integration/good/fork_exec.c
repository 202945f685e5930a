/* fork + exec /bin/true from a threaded program (the preload follows into it): silent, exit 0. */
#include <pthread.h>
#include <sys/wait.h>

#include "tw_test.h"

static int release_pipe[2];

static void *parent_thread(void *arg) {
  (void)arg;
  char c;
  ssize_t n = read(release_pipe[0], &c, 1);
  return (void *)n;
}

int main(void) {
  pthread_t t;
  int status;
  TW_CHECK(pipe(release_pipe) == 0);
  TW_OK(pthread_create(&t, NULL, parent_thread, NULL));
  for (int i = 0; i < 3; i++) {
    pid_t child = fork();
    TW_CHECK(child >= 0);
    if (child == 0) {
      execl("/bin/true", "true", (char *)NULL);
      _exit(127);
    }
    TW_CHECK(waitpid(child, &status, 0) == child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "/bin/true failed: status 0x%x\n", status);
      return 1;
    }
  }
  TW_CHECK(write(release_pipe[1], "x", 1) == 1);
  TW_OK(pthread_join(t, NULL));
  return 0;
}
