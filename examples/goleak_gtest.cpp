/*
 * goleak_gtest.cpp: GoogleTest with a global listener that fails any test leaving threads behind,
 * with the leak's stacks in the test failure (Go's goleak.VerifyTestMain for C++).
 *
 * ThreadLeakListener takes a threadwatch_mark() when each test starts. When the test ends it asks
 * threadwatch_check_leaks_text(mark, 100, ...) whether a thread the test created is still there
 * (waiting up to 100 ms for it to end), and if one is, adds a failure to that test whose message is
 * the thread-leak report: where the thread was created, what it is blocked in, its stack. It is
 * installed once, in main, for every test of the binary; no test needs to know about it.
 *
 * The code under test is a worker pool: Pool::stop_leaky() sets the stop flag but forgets to wake
 * and join the worker, which stays blocked on the condition variable; Pool::stop() does both. Under
 * the preload, LeakyStop fails with the report, CleanStop passes. Without the preload both pass
 * (every threadwatch_* call is a no-op that returns 0).
 *
 * Run: LD_PRELOAD=build/libthreadwatch.so build/examples/goleak_gtest
 *      (or build/threadwatch run -- build/examples/goleak_gtest)
 */
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "threadwatch.h"

// --- the code under test -------------------------------------------------------------------------

class Pool {
 public:
  Pool() : worker_(&Pool::run, this) {  // returns once the worker waits for work
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return started_; });
  }

  void stop() {  // wakes the worker and joins it
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  void stop_leaky() {  // the bug: nobody wakes the worker, nobody joins it
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    worker_.detach();  // detached and blocked forever: still a leak of this test
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    started_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return stopping_; });  // the predicate is checked only when woken
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

// --- the listener: every test, checked ----------------------------------------------------------

class ThreadLeakListener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo &) override { mark_ = threadwatch_mark(); }

  // Failures added here belong to the test that just ended (GoogleTest's sample10 does the same).
  void OnTestEnd(const ::testing::TestInfo &) override {
    static char report[16384];
    int leaked = threadwatch_check_leaks_text(mark_, 100, report, sizeof(report));
    EXPECT_EQ(leaked, 0) << "the test left " << leaked << " thread(s) behind:\n" << report;
  }

 private:
  threadwatch_mark_t mark_ = 0;
};

// --- the tests ----------------------------------------------------------------------------------

TEST(Pool, LeakyStop) {
  Pool *pool = new Pool;  // not deleted: the worker still uses it
  pool->stop_leaky();
}

TEST(Pool, CleanStop) {
  Pool pool;
  pool.stop();
}

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new ThreadLeakListener);
  return RUN_ALL_TESTS();
}
