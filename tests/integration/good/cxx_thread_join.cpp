// std::thread objects that are all joined (also moved around and stored in a vector).
#include <thread>
#include <vector>

#include "tw_test.h"

int main() {
  std::vector<std::thread> threads;
  std::vector<long> results(8);
  for (int i = 0; i < 8; i++) threads.emplace_back([&results, i] { results[i] = i * i; });
  std::thread moved = std::move(threads.back());
  threads.pop_back();
  moved.join();
  for (auto &t : threads) t.join();
  long sum = 0;
  for (long r : results) sum += r;
  TW_CHECK(sum == 140);
  return 0;
}
