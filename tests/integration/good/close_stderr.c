/*
 * A program that closes stderr (fd 2) and then reuses fd 2 for a pipe between two joined threads:
 * threadwatch must neither break nor write into that pipe, and the program exits 0.
 */
#include <pthread.h>

#include "tw_test.h"

static int fds[2];

static void *writer(void *arg) {
  (void)arg;
  for (int i = 0; i < 100; i++) {
    if (write(fds[1], "z", 1) != 1) return (void *)1;
  }
  close(fds[1]);
  return NULL;
}

int main(void) {
  pthread_t t;
  void *ret;
  char buf[64];
  long total = 0;
  ssize_t n;
  close(2);
  if (pipe(fds) != 0) return 10;
  if (fds[0] != 2 && fds[1] != 2) return 11; /* the lowest free fd must be reused */
  if (pthread_create(&t, NULL, writer, NULL) != 0) return 12;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != 'z') return 13; /* something else wrote into our pipe */
    total += n;
  }
  if (pthread_join(t, &ret) != 0 || ret != NULL) return 14;
  return total == 100 ? 0 : 15;
}
