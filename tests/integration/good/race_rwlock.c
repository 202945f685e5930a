/* A table read by two threads under a read lock and updated by two others under the write lock:
 * write-unlock -> read-lock and read-unlock -> write-lock order every conflicting pair, and the
 * readers' reads never conflict with each other: silent. The rwlock lives on the heap, off the
 * watched table's page (page emulation, docs/race.md). */
#include <pthread.h>
#include <stdlib.h>

#include "tw_test.h"

static volatile long table; /* watched */
static pthread_rwlock_t *rw;
static volatile long seen[2];

static void *reader(void *arg) {
  long i = (long)arg;
  TW_OK(pthread_rwlock_rdlock(rw));
  seen[i] = table;
  TW_OK(pthread_rwlock_unlock(rw));
  return NULL;
}

static void *writer(void *arg) {
  (void)arg;
  TW_OK(pthread_rwlock_wrlock(rw));
  table = table + 1;
  TW_OK(pthread_rwlock_unlock(rw));
  return NULL;
}

int main(void) {
  pthread_t t[4];
  rw = malloc(sizeof(*rw));
  TW_CHECK(rw != NULL);
  TW_OK(pthread_rwlock_init(rw, NULL));
  TW_OK(pthread_create(&t[0], NULL, writer, NULL));
  TW_OK(pthread_create(&t[1], NULL, reader, (void *)0));
  TW_OK(pthread_create(&t[2], NULL, reader, (void *)1));
  TW_OK(pthread_create(&t[3], NULL, writer, NULL));
  for (int i = 0; i < 4; i++) TW_OK(pthread_join(t[i], NULL));
  return table == 2 ? 0 : 1;
}
