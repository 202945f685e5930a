// Futures that complete: a promise set by a producer thread while the consumer waits, std::async
// results, a shared_future waited on by three threads, wait_for timeouts on a promise set later.
// Every wait ends; silent.
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "tw_test.h"

static int square(int x) { return x * x; }

int main() {
  for (int round = 0; round < 50; round++) {
    std::promise<int> p;
    std::future<int> f = p.get_future();
    std::thread producer([&p, round] { p.set_value(round); });
    TW_CHECK(f.get() == round);
    producer.join();
  }
  std::vector<std::future<int>> results;
  for (int i = 0; i < 8; i++) results.push_back(std::async(std::launch::async, square, i));
  int sum = 0;
  for (auto &r : results) sum += r.get();
  TW_CHECK(sum == 140);

  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; i++) waiters.emplace_back([start] { start.wait(); });
  std::promise<int> late;
  std::future<int> lf = late.get_future();
  TW_CHECK(lf.wait_for(std::chrono::milliseconds(20)) == std::future_status::timeout);
  go.set_value();
  for (auto &w : waiters) w.join();
  late.set_value(1);
  TW_CHECK(lf.get() == 1);
  return 0;
}
