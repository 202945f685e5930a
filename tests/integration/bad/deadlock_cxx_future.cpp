// std::future::get() on a promise nobody sets, the thread joined by main: libstdc++ waits in a
// raw futex (syscall(SYS_futex, ...)), main in pthread_join. Every thread is asleep.
#include <future>
#include <thread>

__attribute__((noinline)) static int wait_result(std::future<int> &f) { return f.get(); }

int main() {
  std::promise<int> never_set;
  std::future<int> result = never_set.get_future();
  std::thread consumer([&result] { wait_result(result); });
  consumer.join();
  return 0;
}
