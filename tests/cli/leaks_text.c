/* threadwatch_check_leaks_text: the report's text in the caller's buffer (the goleak failure
 * message), "" when nothing leaked, cut with "...\n" when it does not fit; without the library it
 * returns 0 and "". Prints what it checked; exit 0 when every check held. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "threadwatch.h"

static int fds[2];
static void *blocked(void *arg) {
  char c;
  (void)!read(fds[0], &c, 1);
  return arg;
}

__attribute__((noinline)) static void leak_one(void) {
  pthread_t t;
  pthread_create(&t, NULL, blocked, NULL);
}

#define CHECK(cond)                                             \
  do {                                                          \
    if (!(cond)) {                                              \
      printf("check failed at line %d: %s\n", __LINE__, #cond); \
      return 1;                                                 \
    }                                                           \
  } while (0)

int main(void) {
  if (pipe(fds) != 0) return 99;
  char buf[16384];
  memset(buf, 'x', sizeof(buf));
  threadwatch_mark_t mark = threadwatch_mark();
  CHECK(threadwatch_check_leaks_text(mark, 10, buf, sizeof(buf)) == 0);
  CHECK(buf[0] == '\0'); /* nothing leaked: "" */
  leak_one();
  int n = threadwatch_check_leaks_text(mark, 50, buf, sizeof(buf));
  if (!threadwatch_active()) {
    CHECK(n == 0 && buf[0] == '\0');
    printf("without the library: 0 and \"\"\n");
    return 0;
  }
  CHECK(n == 1);
  CHECK(strstr(buf, "threadwatch: thread-leak: thread T2 created at leak_one") != NULL);
  CHECK(strstr(buf, "in blocked ") != NULL); /* the stack is there */
  printf("text:\n%s", buf);
  /* Reported once: a second check counts it and says so, without the report again. */
  n = threadwatch_check_leaks_text(mark, 0, buf, sizeof(buf));
  CHECK(n == 1);
  CHECK(strstr(buf, "1 more leaked thread, reported by an earlier check") != NULL);
  CHECK(strstr(buf, "thread-leak: thread T2") == NULL);
  /* A small buffer: cut, ends with "...\n", NUL-terminated within len. */
  threadwatch_mark_t mark2 = threadwatch_mark();
  leak_one();
  char small[64];
  memset(small, 'x', sizeof(small));
  n = threadwatch_check_leaks_text(mark2, 50, small, sizeof(small));
  CHECK(n == 1);
  CHECK(strlen(small) < sizeof(small));
  CHECK(strlen(small) >= 4 && strcmp(small + strlen(small) - 4, "...\n") == 0);
  /* len 0 and NULL: only the count. */
  CHECK(threadwatch_check_leaks_text(mark2, 0, NULL, 0) == 1);
  printf("all checks held\n");
  return 0;
}
