/* issue 12 item 8: the main thread ends the process while it holds locks (Valgrind's
 * tc04_free_lock family): take_locks() locks a static mutex and a heap one, and main then leaves
 * without unlocking them, by exit(0) (argv[1] "exit") or by returning from main (argv[1]
 * "return"). exit-holding-locks is checked for threads that end, but never for the thread that
 * ends the process: it must be reported (both locks, where each was taken), exit 66. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_test.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static TW_NOINLINE void take_locks(pthread_mutex_t *row) {
  TW_OK(pthread_mutex_lock(&table_lock));
  TW_OK(pthread_mutex_lock(row));
}

int main(int argc, char **argv) {
  pthread_mutex_t *row = malloc(sizeof(*row));
  TW_CHECK(row != NULL);
  TW_OK(pthread_mutex_init(row, NULL));
  take_locks(row);
  printf("leaving with 2 locks held\n");
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "exit") == 0) exit(0);
  return 0;
}
