// C++ inversion: std::mutex with std::lock_guard. transfer() locks from then to; the two threads
// (run one after the other) pass the same two mutexes in opposite order.
#include <mutex>
#include <thread>

#include "tw_test.h"

struct Account {
  std::mutex mu;
  long balance = 100;
};

static Account alice, bob;

TW_NOINLINE static void transfer(Account &from, Account &to, long amount) {
  std::lock_guard<std::mutex> hold_from(from.mu);
  std::lock_guard<std::mutex> hold_to(to.mu);
  from.balance -= amount;
  to.balance += amount;
}

TW_NOINLINE static void pay_bob() { transfer(alice, bob, 10); }
TW_NOINLINE static void pay_alice() { transfer(bob, alice, 5); }

int main() {
  std::thread t1(pay_bob);
  t1.join();
  std::thread t2(pay_alice);
  t2.join();
  TW_CHECK(alice.balance == 95 && bob.balance == 105);
  return 0;
}
