/* Issue 11 item 15: 20,000 short threads, each taking a global mutex and then a heap mutex of its
 * own (a new lock-order pair every time; every other one destroyed, every other one just freed, as
 * C++ does with std::mutex). Nothing of an exited thread may stay: the resident size must not grow
 * from the middle of the run to its end. Baseline efd829f: ~20 KB stays per thread (the per-thread
 * lock-order edge cache is never freed): +200 MB over the second half (bare: +0). The limit, 32 MB,
 * is far from both, and does not depend on timing. */
#include <string.h>

#include "tw_test.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) v = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return v;
}

static void *work(void *arg) {
  long i = (long)arg;
  pthread_mutex_t *m = malloc(sizeof(*m));
  TW_CHECK(m != NULL);
  TW_OK(pthread_mutex_init(m, NULL));
  TW_OK(pthread_mutex_lock(&a));
  TW_OK(pthread_mutex_lock(m));
  TW_OK(pthread_mutex_unlock(m));
  TW_OK(pthread_mutex_unlock(&a));
  if (i % 2) TW_OK(pthread_mutex_destroy(m));
  free(m);
  return NULL;
}

int main(void) {
  long mid = 0;
  for (long done = 0; done < 20000; done += 20) {
    pthread_t t[20];
    for (long i = 0; i < 20; i++) TW_OK(pthread_create(&t[i], NULL, work, (void *)(done + i)));
    for (int i = 0; i < 20; i++) TW_OK(pthread_join(t[i], NULL));
    if (done + 20 == 10000) mid = rss_kb();
  }
  long end = rss_kb();
  if (end - mid > 32 * 1024) {
    fprintf(stderr, "RSS grew by %ld kB over the last 10,000 threads (limit 32768 kB)\n",
            end - mid);
    return 1;
  }
  return 0;
}
