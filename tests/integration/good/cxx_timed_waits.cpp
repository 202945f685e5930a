// C++ timed waits that time out (they reach pthread_cond_clockwait / pthread_mutex_clocklock or
// the timed calls, depending on the library version): the only thread waits on a
// std::condition_variable with wait_for; then a std::timed_mutex held by main is tried with
// try_lock_for by a second thread while main waits for it through a future's wait_for. Nothing
// hangs: no report.
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "tw_test.h"

using namespace std::chrono_literals;

static std::mutex mu;
static std::condition_variable cv;
static bool never = false;

TW_NOINLINE static void lonely_wait_for() {
  std::unique_lock<std::mutex> lock(mu);
  bool got = cv.wait_for(lock, 300ms, [] { return never; });
  TW_CHECK(!got);
}

int main() {
  lonely_wait_for();

  std::timed_mutex tm;
  tm.lock();
  std::promise<bool> result;
  std::future<bool> fut = result.get_future();
  std::thread t([&] { result.set_value(tm.try_lock_for(300ms)); });
  while (fut.wait_for(50ms) != std::future_status::ready) continue;
  TW_CHECK(!fut.get());
  tm.unlock();
  t.join();
  return 0;
}
