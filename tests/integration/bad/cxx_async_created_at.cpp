/* issue 12 item 13 (inline chains): main starts a thread with std::async(std::launch::async, lambda)
 * and then calls exit(0) while that thread still waits on a condvar that nobody will signal (the
 * future's destructor, which would join it, never runs): a thread-leak. With g++ -O1 libstdc++
 * inlines ten functions (std::async, make_shared, ..., std::thread's constructor) into main at
 * the call that reaches std::thread::_M_start_thread. The creation stack must walk that whole inline
 * chain down to main at this file's line. Today the chain is cut after 8 frames (TW_MAX_INLINE): the
 * last kept frame is labelled "main" with a libstdc++ header's file:line, every frame left looks like
 * system code, and the leak is said to be "created at _start". */
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <sys/syscall.h>

#include "tw_test.h"

/* Never destroyed: at exit a destructor of a condvar with a waiter would block in glibc. */
static std::mutex &mu = *new std::mutex;
static std::condition_variable &cv = *new std::condition_variable;
static bool go;                /* never set */
static volatile pid_t worker;  /* the async thread's tid */

static TW_NOINLINE int wait_for_go() {
  std::unique_lock<std::mutex> lk(mu);
  worker = tw_test_gettid();
  cv.wait(lk, [] { return go; });
  return 42;
}

int main() {
  std::future<int> f = std::async(std::launch::async, [] { return wait_for_go(); });
  unsigned long spins = 0;
  while (worker == 0) tw_test_pause(&spins, "the async thread to start", 0, 0);
  tw_test_wait_in_syscall(worker, SYS_futex); /* inside cv.wait */
  std::printf("exiting with the async thread blocked\n");
  std::fflush(stdout);
  std::exit(0); /* f is never destroyed: its thread is never joined */
}
