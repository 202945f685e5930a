/* issue 12 item 13 (names): a lock-order inversion between two C++ globals, `accounts_lock` (static:
 * its symbol is _ZL13accounts_lock) and `bank::ledger_lock` (_ZN4bank11ledger_lockE), taken in one
 * order by a thread named "payer" and in the other by one named "auditor". The text report must
 * name the locks as the program does (demangled: accounts_lock, bank::ledger_lock), and each cycle
 * edge must name its thread with its name: T2 "payer" took ..., T3 "auditor" took ... */
#include <pthread.h>

#include <cstdio>
#include <mutex>
#include <thread>

#include "tw_test.h"

static std::mutex accounts_lock;
namespace bank {
std::mutex ledger_lock;
}

static TW_NOINLINE void pay() {
  std::lock_guard<std::mutex> a(accounts_lock);
  std::lock_guard<std::mutex> b(bank::ledger_lock);
}

static TW_NOINLINE void audit() {
  std::lock_guard<std::mutex> b(bank::ledger_lock);
  std::lock_guard<std::mutex> a(accounts_lock);
}

int main() {
  std::thread payer([] {
    pthread_setname_np(pthread_self(), "payer");
    pay();
  });
  payer.join();
  std::thread auditor([] {
    pthread_setname_np(pthread_self(), "auditor");
    audit();
  });
  auditor.join();
  std::printf("done\n");
  return 0;
}
