// A thread left waiting on a std::future whose promise is never set, never joined (its std::thread
// object is leaked on purpose): at exit, a thread-leak blocked in the futex wait, created at
// start_consumer (through std::thread's constructor, inlined from the library headers).
#include <future>
#include <thread>

#include "tw_test.h"

static std::promise<int> never_set;
static std::future<int> result = never_set.get_future();
static volatile pid_t consumer_tid;

__attribute__((noinline)) static int wait_result() { return result.get(); }

__attribute__((noinline)) static void start_consumer() {
  new std::thread([] {
    consumer_tid = tw_test_gettid();
    wait_result();
  });
}

int main() {
  start_consumer();
  while (consumer_tid == 0) sched_yield();
  tw_test_wait_in_syscall(consumer_tid, SYS_futex);
  return 0;
}
