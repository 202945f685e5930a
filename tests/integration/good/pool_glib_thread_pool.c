/* issue 12 item 1: a clean GLib GThreadPool program. g_thread_pool_free(pool, FALSE, TRUE) waits
 * for every task; GLib then keeps idle pool threads parked for a later pool (g_thread_pool's
 * "unused threads", max_unused_threads, default 2) and drops its references to them, so they are
 * neither joined nor (while they live) detached when the process exits. GLib owns them: no report,
 * exit 0. */
// build: pkg-config:glib-2.0
#include <glib.h>
#include <stdio.h>

#include "tw_test.h"

static gint total;

static TW_NOINLINE void task(gpointer data, gpointer user_data) {
  (void)user_data;
  g_atomic_int_add(&total, GPOINTER_TO_INT(data));
}

int main(void) {
  GError *err = NULL;
  GThreadPool *pool = g_thread_pool_new(task, NULL, 3, FALSE, &err);
  TW_CHECK(pool != NULL);
  for (int i = 1; i <= 20; i++) TW_CHECK(g_thread_pool_push(pool, GINT_TO_POINTER(i), &err));
  g_thread_pool_free(pool, FALSE, TRUE); /* waits until every task has run */
  TW_CHECK(g_atomic_int_get(&total) == 210);
  printf("total %d\n", g_atomic_int_get(&total));
  return 0;
}
