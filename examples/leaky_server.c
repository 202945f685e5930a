/*
 * leaky_server.c: one thread per request, never joined.
 *
 * The "server" handles 20 requests. For each one, handle_request() starts a reader thread that
 * waits for the request body on a pipe. The client never sends it (the write end is simply kept
 * open), and nobody joins or detaches the readers: when the server exits, 20 threads are still
 * blocked in read(). In Go terms this is a goroutine leak; threadwatch reports it as ONE
 * thread-leak grouped by creation stack ("20 threads created at handle_request ... blocked in
 * read()").
 *
 * Run: LD_PRELOAD=build/libthreadwatch.so build/examples/leaky_server
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define NREQUESTS 20

struct request {
  int id;
  int body_fd; /* read end of the pipe the body would arrive on */
};

static struct request requests[NREQUESTS];

static void *read_body(void *arg) {
  struct request *req = arg;
  char buf[512];
  ssize_t n = read(req->body_fd, buf, sizeof buf); /* BUG: blocks forever, nobody writes */
  return (void *)n;
}

/* Starts a reader for the request and forgets about it: the thread is never joined. */
__attribute__((noinline)) static int handle_request(struct request *req) {
  int fds[2];
  pthread_t reader;
  if (pipe(fds) != 0) return -1;
  req->body_fd = fds[0]; /* fds[1] stays open: the "client" that never sends */
  return pthread_create(&reader, NULL, read_body, req);
}

int main(void) {
  for (int i = 0; i < NREQUESTS; i++) {
    requests[i].id = i;
    if (handle_request(&requests[i]) != 0) return 1;
  }
  /* Serve for a moment (a real server would keep going), then shut down without joining. */
  struct timespec serve = {0, 200 * 1000 * 1000};
  nanosleep(&serve, NULL);
  printf("leaky_server: handled %d requests, shutting down\n", NREQUESTS);
  return 0;
}
