/*
 * The twin of bad/misuse_unlock_unlocked_cxx: std::mutex unlocked exactly once per lock, through
 * std::lock_guard, a std::unique_lock unlocked by hand before its destructor (which then knows not
 * to unlock again), std::scoped_lock over two mutexes, and try_lock, in four std::threads.
 */
#include <mutex>
#include <thread>
#include <vector>

#include "tw_test.h"

static std::mutex log_mutex, index_mutex;
static long lines;

static void flush_log() {
  for (int i = 0; i < 1000; i++) {
    {
      std::lock_guard<std::mutex> g(log_mutex);
      lines++;
    }
    {
      std::unique_lock<std::mutex> u(log_mutex);
      lines++;
      u.unlock(); /* the destructor sees it is not owned and leaves it alone */
    }
    {
      std::scoped_lock both(log_mutex, index_mutex);
      lines++;
    }
    if (log_mutex.try_lock()) {
      lines++;
      log_mutex.unlock();
    } else {
      std::lock_guard<std::mutex> g(log_mutex);
      lines++;
    }
  }
}

int main() {
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; i++) ts.emplace_back(flush_log);
  for (auto &t : ts) t.join();
  TW_CHECK(lines == 16000);
  return 0;
}
