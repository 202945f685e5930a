// A std::condition_variable wait (with a predicate) that is never notified, while main sleeps in
// a loop: std::condition_variable::wait reaches pthread_cond_wait, a stall of class condvar.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tw_test.h"

static std::mutex mu;
static std::condition_variable cv;
static bool shutdown_requested = false;

static void wait_for_shutdown() {
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [] { return shutdown_requested; });  // nobody notifies
}

int main() {
  std::thread t(wait_for_shutdown);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // killed by the timeout
}
