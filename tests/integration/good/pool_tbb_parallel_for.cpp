/* issue 12 item 1: a clean oneTBB program. tbb::parallel_for runs on TBB's worker pool (started by
 * its RML server on first use, owned by the library: workers park between parallel algorithms and
 * are released when the library shuts down). No report, exit 0. */
// build: pkg-config:tbb
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <cstdio>

#include "tw_test.h"

static std::atomic<long> total{0};

static TW_NOINLINE void run(void) {
  tbb::parallel_for(tbb::blocked_range<int>(0, 100000), [](const tbb::blocked_range<int> &r) {
    long s = 0;
    for (int i = r.begin(); i != r.end(); ++i) s += i;
    total += s;
  });
}

int main() {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 4);
  run();
  TW_CHECK(total == 100000L * 99999L / 2);
  std::printf("total %ld\n", total.load());
  return 0;
}
