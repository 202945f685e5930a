// std::condition_variable with a predicate: a producer/consumer handshake, then both joined.
// Uses wait (pthread_cond_wait) and wait_for (pthread_cond_clockwait on glibc 2.30+).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <queue>
#include <thread>

#include "tw_test.h"

static std::mutex mu;
static std::condition_variable cv;
static std::queue<int> items;
static bool done = false;

int main() {
  long sum = 0;
  std::thread consumer([&sum] {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [] { return !items.empty() || done; });
      while (!items.empty()) {
        sum += items.front();
        items.pop();
      }
      if (done) break;
    }
  });
  std::thread timed([] {
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, std::chrono::milliseconds(5), [] { return done; })) {
    }
  });
  for (int i = 1; i <= 500; i++) {
    {
      std::lock_guard<std::mutex> guard(mu);
      items.push(i);
    }
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> guard(mu);
    done = true;
  }
  cv.notify_all();
  consumer.join();
  timed.join();
  TW_CHECK(sum == 500 * 501 / 2);
  return 0;
}
