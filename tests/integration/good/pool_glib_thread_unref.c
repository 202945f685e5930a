/* issue 12 item 1: a clean GLib program that starts threads and drops its references to them
 * instead of joining (g_thread_unref, documented as "the thread detaches itself when it finishes").
 * GLib's last reference is released by the thread itself, in GLib's thread-specific-data destructor,
 * which then calls pthread_detach() on the finishing thread. The program waits until every thread
 * is gone from the kernel before it returns: all of them were detached. No report, exit 0. */
// build: pkg-config:glib-2.0
#include <glib.h>
#include <stdio.h>

#include "tw_test.h"

#define NTHREADS 3

static volatile pid_t tids[NTHREADS];
static gint finished;

static TW_NOINLINE gpointer worker(gpointer arg) {
  tids[GPOINTER_TO_INT(arg)] = tw_test_gettid();
  g_atomic_int_inc(&finished);
  return NULL;
}

int main(void) {
  for (int i = 0; i < NTHREADS; i++) {
    GThread *t = g_thread_new("glib-worker", worker, GINT_TO_POINTER(i));
    g_thread_unref(t); /* not joined: GLib detaches it when it ends */
  }
  unsigned long spins = 0;
  while (g_atomic_int_get(&finished) < NTHREADS) tw_test_pause(&spins, "workers to run", 0, 0);
  for (int i = 0; i < NTHREADS; i++) tw_test_wait_gone(tids[i]); /* past every TSD destructor */
  printf("finished %d\n", g_atomic_int_get(&finished));
  return 0;
}
