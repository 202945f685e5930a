/* A clean program for the option tests: prints "main ran" and exits with argv[1] (default 0). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *work(void *arg) { return arg; }

int main(int argc, char **argv) {
  pthread_t t;
  printf("main ran\n");
  fflush(stdout);
  if (pthread_create(&t, NULL, work, NULL) != 0 || pthread_join(t, NULL) != 0) return 99;
  return argc > 1 ? atoi(argv[1]) : 0;
}
