// std::mutex with std::lock_guard and std::unique_lock, contended by 4 joined threads.
#include <mutex>
#include <thread>
#include <vector>

#include "tw_test.h"

static std::mutex mu;
static long counter = 0;

int main() {
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    threads.emplace_back([] {
      for (int j = 0; j < 10000; j++) {
        if (j % 2 == 0) {
          std::lock_guard<std::mutex> guard(mu);
          counter++;
        } else {
          std::unique_lock<std::mutex> lock(mu);
          counter++;
        }
      }
    });
  }
  for (auto &t : threads) t.join();
  TW_CHECK(counter == 40000);
  return 0;
}
