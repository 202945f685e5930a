// std::async with launch::async runs each task on a thread joined through its future.
#include <future>
#include <vector>

#include "tw_test.h"

static long square(long x) { return x * x; }

int main() {
  std::vector<std::future<long>> futures;
  for (long i = 0; i < 16; i++) futures.push_back(std::async(std::launch::async, square, i));
  long sum = 0;
  for (auto &f : futures) sum += f.get();
  TW_CHECK(sum == 1240);
  // A future that is never get(): its destructor still waits for (and joins) the thread.
  { auto ignored = std::async(std::launch::async, square, 3L); }
  return 0;
}
