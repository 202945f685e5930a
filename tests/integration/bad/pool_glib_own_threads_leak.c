/* issue 12 item 1, the twin of good/pool_glib_thread_unref: threads the program starts with
 * g_thread_new and neither joins nor unrefs are the program's own leak, not GLib's pool: they stay
 * reported (thread-leak, created at main through g_thread_new) whatever the built-in suppressions
 * say about GLib's thread pool. */
// build: pkg-config:glib-2.0
#include <glib.h>
#include <stdio.h>

#include "tw_test.h"

static volatile pid_t tid;

static TW_NOINLINE gpointer worker(gpointer arg) {
  (void)arg;
  tid = tw_test_gettid();
  return NULL;
}

int main(void) {
  GThread *t = g_thread_new("forgotten", worker, NULL);
  (void)t; /* neither g_thread_join nor g_thread_unref: joinable until the end */
  unsigned long spins = 0;
  while (tid == 0) tw_test_pause(&spins, "worker to start", 0, 0);
  tw_test_wait_gone(tid);
  printf("worker gone\n");
  return 0;
}
