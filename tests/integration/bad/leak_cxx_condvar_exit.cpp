// A std::thread still blocked in std::condition_variable::wait when main calls exit(0): it is
// neither joined nor detached, so threadwatch reports it as blocked and the status becomes 66.
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "tw_test.h"

// Never destroyed: at exit, glibc's pthread_cond_destroy (run by a static destructor) would wait
// for the blocked waiter forever.
static std::mutex &mu = *new std::mutex;
static std::condition_variable &cv = *new std::condition_variable;
static bool waiting = false;
static bool go = false;

static void wait_for_go() {
  std::unique_lock<std::mutex> lock(mu);
  waiting = true;
  cv.wait(lock, [] { return go; });  // nobody ever sets go
}

// The std::thread object is leaked on purpose: destroying a joinable std::thread would terminate.
TW_NOINLINE void start_cxx_waiter() { new std::thread(wait_for_go); }

int main() {
  unsigned long spins = 0;
  start_cxx_waiter();
  for (;;) {
    // Holding mu with waiting set means the waiter is inside cv.wait (which released mu).
    std::unique_lock<std::mutex> lock(mu);
    if (waiting) break;
    lock.unlock();
    tw_test_pause(&spins, "waiter to wait", 0, 0);
  }
  std::exit(0);  // the waiter stays in cv.wait: nobody notifies it
}
