/* Helper library of sh/exit_library_destructors.sh: a worker pool started by the library's
 * constructor and joined by its destructor (what libuv does), plus an atexit handler registered by
 * the constructor. Each leaves a line in the file $POOL_MARKER when it runs. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_t pool_thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int shutting_down, started;

static void mark(const char *line) {
  const char *path = getenv("POOL_MARKER");
  if (!path) return;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) return;
  ssize_t w = write(fd, line, strlen(line));
  (void)w;
  close(fd);
}

static void *pool_worker(void *arg) {
  pthread_mutex_lock(&mu);
  while (!shutting_down) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return arg;
}

static void library_atexit(void) { mark("library atexit handler ran\n"); }

__attribute__((constructor)) static void pool_start(void) {
  started = pthread_create(&pool_thread, NULL, pool_worker, NULL) == 0;
  atexit(library_atexit);
}

__attribute__((destructor)) static void pool_stop(void) {
  if (!started) return;
  pthread_mutex_lock(&mu);
  shutting_down = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  pthread_join(pool_thread, NULL);
  mark("pool destructor joined its worker\n");
}

int pool_ready(void) { return started; }
