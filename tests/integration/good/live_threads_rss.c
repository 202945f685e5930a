/* Issue 11 item 16: 1,000 live threads, each blocked in its first pthread_cond_wait. The memory
 * goal is at most 16 KiB of tool state per live thread; baseline efd829f adds ~270 KiB per thread
 * (libunwind's per-thread trace cache: a 256 KiB mapping, initialised, made by the first stack
 * capture of each thread, which the wait's stack needed). The limit checked here, 64 KiB per thread
 * over everything the thread costs bare (~8 KiB: its stack pages and TLS), is far from both and
 * does not depend on timing. */
#include <string.h>

#include "tw_test.h"

#define N 1000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER, counted = PTHREAD_COND_INITIALIZER;
static int waiting, go;

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) v = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return v;
}

static void *worker(void *arg) {
  TW_OK(pthread_mutex_lock(&m));
  waiting++;
  TW_OK(pthread_cond_signal(&counted));
  while (!go) TW_OK(pthread_cond_wait(&cv, &m));
  TW_OK(pthread_mutex_unlock(&m));
  return arg;
}

int main(void) {
  pthread_attr_t a;
  TW_OK(pthread_attr_init(&a));
  TW_OK(pthread_attr_setstacksize(&a, 64 * 1024));
  static pthread_t t[N];
  long before = rss_kb();
  for (int i = 0; i < N; i++) TW_OK(pthread_create(&t[i], &a, worker, NULL));
  TW_OK(pthread_mutex_lock(&m));
  while (waiting < N) TW_OK(pthread_cond_wait(&counted, &m));
  TW_OK(pthread_mutex_unlock(&m));
  long blocked = rss_kb();
  TW_OK(pthread_mutex_lock(&m));
  go = 1;
  TW_OK(pthread_cond_broadcast(&cv));
  TW_OK(pthread_mutex_unlock(&m));
  for (int i = 0; i < N; i++) TW_OK(pthread_join(t[i], NULL));
  long per = (blocked - before) / N;
  if (per > 64) {
    fprintf(stderr, "%ld kB per live blocked thread (limit 64 kB)\n", per);
    return 1;
  }
  return 0;
}
