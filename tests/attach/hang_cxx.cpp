// A C++ ABBA on std::mutex, for tests/attach/run.sh (no preload): Bank::transfer holds `accounts`
// and wants `journal`, Bank::audit the reverse; main joins the first std::thread. Prints "ready"
// once both threads are blocked (seen in /proc/self/task/TID/syscall, never by sleeping).
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include <sys/syscall.h>
#include <unistd.h>

#include "../integration/tw_test.h"

namespace bank {

std::mutex accounts, journal;
std::atomic<int> holding{0};
std::atomic<pid_t> tids[2];

void both_hold() {
  unsigned long spins = 0;
  holding++;
  while (holding.load() < 2) tw_test_pause(&spins, "the other to hold its lock", 0, 0);
}

TW_NOINLINE void transfer() {
  tids[0] = tw_test_gettid();
  std::lock_guard<std::mutex> a(accounts);
  both_hold();
  std::lock_guard<std::mutex> b(journal);  // held by audit: forever
}

TW_NOINLINE void audit() {
  tids[1] = tw_test_gettid();
  std::lock_guard<std::mutex> b(journal);
  both_hold();
  std::lock_guard<std::mutex> a(accounts);  // held by transfer: forever
}

}  // namespace bank

int main() {
  std::thread t1(bank::transfer), t2(bank::audit);
  for (auto &tid : bank::tids) {
    unsigned long spins = 0;
    while (tid.load() == 0) tw_test_pause(&spins, "thread to start", 0, 0);
    tw_test_wait_in_syscall(tid.load(), SYS_futex);
  }
  std::printf("ready\n");
  std::fflush(stdout);
  t1.join();  // forever
  t2.join();
}
