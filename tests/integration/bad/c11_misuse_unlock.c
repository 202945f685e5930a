/* mtx_unlock of a C11 mutex nobody holds (C11: undefined). */
#include <threads.h>

#include "tw_test.h"

static mtx_t mu;

static TW_NOINLINE void release(void) { mtx_unlock(&mu); }

int main(void) {
  TW_CHECK(mtx_init(&mu, mtx_plain) == thrd_success);
  release();
  mtx_destroy(&mu);
  return 0;
}
