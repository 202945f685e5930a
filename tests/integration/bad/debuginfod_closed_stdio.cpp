/*
 * Issue 11 item 9: a program that closed stdout and stderr (xz closes stderr before it exits).
 * A report then symbolizes a frame in a library without local debug info (libstdc++: the thread is
 * a std::thread), and with DEBUGINFOD_URLS set libdw starts its debuginfod client, whose libcurl
 * makes a socketpair: it lands on the free fds 1 and 2, the text report is written into it, and the
 * pair stays open (not close-on-exec). After the report, fds 1 and 2 must still be closed, and no
 * socket the program did not make may be open in the program's way (below fd 900, threadwatch's
 * TW_TOOL_FD_BASE, or without close-on-exec). Exit status: 66 when all is well (the report), 3
 * when fd 1 or 2 was taken, 4 when a stray socket is open. With the argument `keep-stdio` the
 * program keeps its stdout/stderr (a server): only the stray-socket check applies.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static int bad_unlock(void) { return pthread_mutex_unlock(&m); }

static int stray_sockets(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[300], target[300];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t k = readlink(path, target, sizeof target - 1);
    if (k <= 0) continue;
    target[k] = '\0';
    int fd = atoi(e->d_name);
    if (strncmp(target, "socket:", 7) == 0 && (fd < 900 || !(fcntl(fd, F_GETFD) & FD_CLOEXEC))) n++;
  }
  closedir(d);
  return n;
}

static int worker_result;

int main(int argc, char **argv) {
  static bool keep_stdio = argc > 1 && strcmp(argv[1], "keep-stdio") == 0;
  if (!keep_stdio) {
    close(1);
    close(2);
  }
  std::thread t([] {
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    bad_unlock(); /* misuse: unlock-unlocked, reported (and symbolized) before this returns */
    bool taken = !keep_stdio && (fcntl(1, F_GETFD) != -1 || fcntl(2, F_GETFD) != -1);
    worker_result = taken ? 3 : stray_sockets() ? 4 : 0;
  });
  t.join();
  if (worker_result) _exit(worker_result);
  return 0;
}
