/* issue 12 item 2, the twin of good/lock_reuse_cxx_heap: two heap objects holding a std::mutex are
 * locked in both orders while both stay alive; meanwhile the program frees many other blocks of the
 * same size, some right next to them. Forgetting locks on free must forget only the freed memory:
 * the real inversion is still reported. */
#include <cstdio>
#include <mutex>
#include <vector>

#include "tw_test.h"

struct Account {
  std::mutex mu;
  long balance = 100;
};

static TW_NOINLINE void transfer(Account *from, Account *to) {
  std::lock_guard<std::mutex> a(from->mu);
  std::lock_guard<std::mutex> b(to->mu);
  from->balance--;
  to->balance++;
}

int main() {
  std::vector<Account *> others;
  for (int i = 0; i < 8; i++) others.push_back(new Account);
  Account *x = new Account, *y = new Account;
  for (int i = 0; i < 8; i++) others.push_back(new Account);
  transfer(x, y);
  for (Account *a : others) delete a; /* neighbours of x and y go away; x and y stay */
  for (int i = 0; i < 100; i++) delete new Account;
  transfer(y, x); /* the same two locks, the other order */
  std::printf("balances %ld %ld\n", x->balance, y->balance);
  delete x;
  delete y;
  return 0;
}
