/*
 * Correct C++ locking through the clock-based pthread calls of glibc 2.30+ (hazard 11): every
 * unlock below is made by the thread that holds the lock, so no unlock-not-owner,
 * unlock-unlocked, rwlock-unlock-not-held or exit-holding-locks may come of it.
 *  - std::timed_mutex::try_lock_for / try_lock_until (pthread_mutex_clocklock),
 *  - std::recursive_timed_mutex locked twice with try_lock_for, unlocked twice,
 *  - std::shared_timed_mutex try_lock_shared_for / try_lock_for (pthread_rwlock_clockrdlock,
 *    pthread_rwlock_clockwrlock), and std::shared_mutex lock_shared / lock,
 *  - std::condition_variable::wait_for (pthread_cond_clockwait) with its predicate.
 * Four threads, 200 rounds each.
 */
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "tw_test.h"

using namespace std::chrono_literals;

static std::timed_mutex tm;
static std::recursive_timed_mutex rtm;
static std::shared_timed_mutex stm;
static std::shared_mutex sm;
static std::mutex cv_mu;
static std::condition_variable cv;
static long counter, turn;

static void work(long me) {
  for (int i = 0; i < 200; i++) {
    if (tm.try_lock_for(5s)) {
      counter++;
      tm.unlock();
    }
    if (tm.try_lock_until(std::chrono::steady_clock::now() + 5s)) {
      counter++;
      tm.unlock();
    }
    if (rtm.try_lock_for(5s)) {
      if (rtm.try_lock_for(5s)) rtm.unlock();
      rtm.unlock();
    }
    if (stm.try_lock_shared_for(5s)) stm.unlock_shared();
    if (stm.try_lock_for(5s)) stm.unlock();
    {
      std::shared_lock<std::shared_mutex> r(sm);
    }
    {
      std::unique_lock<std::shared_mutex> w(sm);
    }
    /* Take turns: each thread waits (with a timeout) until it is its turn. */
    std::unique_lock<std::mutex> l(cv_mu);
    while (!cv.wait_for(l, 10s, [me] { return turn % 4 == me; })) continue;
    turn++;
    cv.notify_all();
  }
}

int main() {
  std::vector<std::thread> ts;
  for (long i = 0; i < 4; i++) ts.emplace_back(work, i);
  for (auto &t : ts) t.join();
  TW_CHECK(counter == 1600);
  return 0;
}
