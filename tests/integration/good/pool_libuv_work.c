/* issue 12 item 1: a clean libuv program. uv_queue_work runs its work on libuv's thread pool, which
 * libuv starts on first use and joins in its own library destructor (threadpool.c's cleanup) when
 * the process exits: the program cannot join those threads and need not. No report, exit 0. */
// build: pkg-config:libuv
#include <stdio.h>
#include <uv.h>

#include "tw_test.h"

static int done_count;

static TW_NOINLINE void work(uv_work_t *req) { *(int *)req->data *= 2; }

static void after(uv_work_t *req, int status) {
  TW_CHECK(status == 0);
  done_count++;
  (void)req;
}

int main(void) {
  uv_loop_t *loop = uv_default_loop();
  uv_work_t reqs[8];
  int values[8];
  for (int i = 0; i < 8; i++) {
    values[i] = i;
    reqs[i].data = &values[i];
    TW_OK(uv_queue_work(loop, &reqs[i], work, after));
  }
  TW_OK(uv_run(loop, UV_RUN_DEFAULT));
  TW_CHECK(done_count == 8);
  for (int i = 0; i < 8; i++) TW_CHECK(values[i] == 2 * i);
  TW_OK(uv_loop_close(loop));
  printf("done %d\n", done_count);
  return 0;
}
