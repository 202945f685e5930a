/* issue 12 item 13 (names): race watching on a C++ global. `accounts` is a namespace-scope static
 * (symbol _ZL8accounts): THREADWATCH_WATCH=accounts must find it by the name the program uses, and
 * the race-suspect report must call it `accounts`, not `_ZL8accounts`. Two threads increment it in
 * turns with nothing that orders them (race_turns.h), as in bad/race_counter.c. */
#include <cstdio>

#include "tw_test.h"
#include "race_turns.h"

static volatile long accounts;

TW_NOINLINE static void deposit() { accounts = accounts + 1; }
TW_NOINLINE static void withdraw() { accounts = accounts - 1; }

static void *depositor(void *) {
  turn_first();
  for (int i = 0; i < 20; i++) {
    deposit();
    tw_test_sleep_ms(1); /* spread out: see race_turns.h */
  }
  return nullptr;
}

static void *withdrawer(void *) {
  turn_second();
  for (int i = 0; i < 20; i++) withdraw();
  return nullptr;
}

int main() {
  run_in_turns(depositor, nullptr, withdrawer, nullptr, nullptr);
  std::printf("accounts = %ld\n", accounts);
  return 0;
}
