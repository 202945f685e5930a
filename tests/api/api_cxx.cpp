// The public header from C++: every function, with and without the preload (tests/api/run.sh).
//
//   api_cxx preload|bare
//
// Prints PASS/FAIL lines like api_test.c; exit status 1 when a check failed.
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "threadwatch.h"

namespace {

bool preloaded;
int failures;

void check(bool ok, const std::string &what) {
  std::printf("%s: cxx: %s\n", ok ? "PASS" : "FAIL", what.c_str());
  std::fflush(stdout);
  failures += !ok;
}

void expect(const char *what, long got, long with, long without) {
  long want = preloaded ? with : without;
  check(got == want, std::string(what) + " = " + std::to_string(got) + " (expected " +
                         std::to_string(want) + ")");
}

std::mutex mu;
std::condition_variable cv;
bool open_gate;
int arrived;

void wait_gate() {
  std::unique_lock<std::mutex> lock(mu);
  arrived++;
  cv.wait(lock, [] { return open_gate; });
}

// Never destroyed: a static condvar's destructor at exit would wait for the leaked waiter.
std::mutex *never_mu = new std::mutex;
std::condition_variable *never_cv = new std::condition_variable;

__attribute__((noinline)) void cxx_leaky_main() {
  std::unique_lock<std::mutex> lock(*never_mu);
  never_cv->wait(lock, [] { return false; });
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  preloaded = std::strcmp(argv[1], "preload") == 0;

  expect("threadwatch_active()", threadwatch_active(), 1, 0);
  const char *v = threadwatch_version();
  check(preloaded ? (v != nullptr && std::strcmp(v, "0.1.0") == 0) : v == nullptr,
        std::string("threadwatch_version() = ") + (v ? v : "NULL"));
  expect("threadwatch_thread_count() at start", static_cast<long>(threadwatch_thread_count()), 1, 0);

  std::thread a(wait_gate), b(wait_gate);
  expect("threadwatch_thread_count() with two std::threads", static_cast<long>(threadwatch_thread_count()),
         3, 0);
  for (;;) {
    std::lock_guard<std::mutex> lock(mu);
    if (arrived == 2) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    open_gate = true;
  }
  cv.notify_all();
  a.join();
  b.join();

  expect("threadwatch_name_lock(&std::mutex, \"cxx mutex\")", threadwatch_name_lock(&mu, "cxx mutex"), 0,
         0);
  errno = 4242;
  threadwatch_mark_t mark = threadwatch_mark();
  check(preloaded ? mark != 0 : mark == 0, "threadwatch_mark() = " + std::to_string(static_cast<unsigned long long>(mark)));
  new std::thread(cxx_leaky_main);  // never joined nor detached: leaked on purpose
  expect("threadwatch_check_leaks(mark, 50) with a leaked std::thread", threadwatch_check_leaks(mark, 50),
         1, 0);
  check(errno == 4242, "errno kept: " + std::to_string(errno));

  std::FILE *null = std::fopen("/dev/null", "w");
  expect("threadwatch_dump(/dev/null)", threadwatch_dump(fileno(null)), 0, 0);
  std::fclose(null);

  static long watched;
  int rc = threadwatch_watch(&watched, sizeof(watched));
  if (preloaded)
    check(rc == 0 || rc == ENOSPC || rc == EPERM || rc == EACCES || rc == EOPNOTSUPP || rc == ENOENT ||
              rc == ENOSYS || rc == ENOMEM,
          "threadwatch_watch = " + std::to_string(rc) + ": a documented value");
  else
    expect("threadwatch_watch", rc, 0, 0);
  int u = threadwatch_unwatch(&watched);
  if (preloaded) check(u == (rc == 0 ? 0 : ENOENT), "threadwatch_unwatch = " + std::to_string(u));
  else expect("threadwatch_unwatch", u, 0, 0);
  return failures ? 1 : 0;
}
