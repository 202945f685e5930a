/*
 * unlock-unlocked in C++: a std::mutex unlocked twice (undefined behaviour; libstdc++'s
 * std::mutex is a default pthread mutex, and glibc's unlock of a free one returns without harm).
 * A worker std::thread runs flush_log, which unlocks the mutex again after a manual lock/unlock.
 */
#include <mutex>
#include <thread>

#include "tw_test.h"

static std::mutex log_mutex;

TW_NOINLINE void flush_log() {
  log_mutex.lock();
  log_mutex.unlock();
  log_mutex.unlock(); /* already unlocked */
}

int main() {
  std::thread t(flush_log);
  t.join();
  return 0;
}
