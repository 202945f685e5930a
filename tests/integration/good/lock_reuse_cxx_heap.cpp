/* issue 12 item 2: objects holding a std::mutex (no pthread_mutex_init nor destroy is ever called)
 * are deleted, and new objects take the same addresses. The old pair was locked low address then
 * high; the new pair is locked high then low. No lock was ever taken in two orders: the new
 * objects' mutexes are new locks. No report, exit 0 (today a false lock-order-cycle). */
#include <cstdint>
#include <cstdio>
#include <mutex>

#include "tw_test.h"

struct Account {
  std::mutex mu;
  long balance = 100;
};

/* Moves one unit from `from` to `to`, locking `from` first. */
static TW_NOINLINE void transfer(Account *from, Account *to) {
  std::lock_guard<std::mutex> a(from->mu);
  std::lock_guard<std::mutex> b(to->mu);
  from->balance--;
  to->balance++;
}

int main() {
  Account *x = new Account, *y = new Account;
  Account *lo = (uintptr_t)x < (uintptr_t)y ? x : y, *hi = lo == x ? y : x;
  transfer(lo, hi); /* old objects: low address, then high */
  void *old_lo = lo, *old_hi = hi;
  delete x;
  delete y;
  /* No pthread call between the deletes and the news: glibc's per-thread cache hands the same two
   * blocks back (checked below). */
  Account *p = new Account, *q = new Account;
  TW_CHECK((p == old_lo && q == old_hi) || (p == old_hi && q == old_lo));
  Account *nlo = (uintptr_t)p < (uintptr_t)q ? p : q, *nhi = nlo == p ? q : p;
  transfer(nhi, nlo); /* new objects: high address, then low */
  std::printf("balances %ld %ld\n", nlo->balance, nhi->balance);
  delete p;
  delete q;
  return 0;
}
