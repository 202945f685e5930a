/*
 * Issue 11 item 7: threadwatch's report files must stay out of the program's way. A daemon-style
 * program makes a report (the report files get opened), checks that its next open() still gets the
 * lowest number it got before (the tool's fds must not take low numbers), then closes every fd
 * >= 3 (as daemons do), opens its own data file (which gets a low number again) and writes 18 bytes
 * to it, and makes a second report. The data file must hold exactly its 18 bytes: the second report
 * must not land in it (baseline: it is appended to the data file, which sits on the number the
 * text log had).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "tw_test.h"

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;

TW_NOINLINE static int bad_unlock_first(void) { return pthread_mutex_unlock(&first); }
TW_NOINLINE static int bad_unlock_second(void) { return pthread_mutex_unlock(&second); }

static int lowest_free_fd(void) {
  int fd = open("/dev/null", O_RDONLY);
  TW_CHECK(fd >= 0);
  close(fd);
  return fd;
}

int main(void) {
  int before = lowest_free_fd();
  TW_OK(pthread_mutex_lock(&first));
  TW_OK(pthread_mutex_unlock(&first));
  bad_unlock_first(); /* misuse: unlock-unlocked; reported before the call returns */
  tw_test_wait_json_lines(1);
  int after = lowest_free_fd();
  printf("lowest free fd: %d before the first report, %d after it\n", before, after);

  for (int fd = 3; fd < 4096; fd++) close(fd); /* daemonise */
  int data = open("data.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  TW_CHECK(data >= 0);
  static const char payload[] = "program data 18 b\n";
  TW_CHECK(write(data, payload, 18) == 18);
  TW_OK(pthread_mutex_lock(&second));
  TW_OK(pthread_mutex_unlock(&second));
  bad_unlock_second(); /* misuse at another site: a second report, written before this returns */
  TW_CHECK(close(data) == 0);
  struct stat st;
  TW_CHECK(stat("data.txt", &st) == 0);
  printf("data file: %lld bytes (fd %d)\n", (long long)st.st_size, data);
  printf("%s\n", before == after && st.st_size == 18 ? "fds ok" : "fds clobbered");
  return 0;
}
