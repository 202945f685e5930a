/* Unit tests for runtime/fdset.c and the epoll table of runtime/fdtrack.c: the fd set a poll,
 * select or epoll wait waits on, read from wait states made by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "runtime/fdset.h"
#include "runtime/fdtrack.h"

static struct tw_wait_snap wait_of(enum tw_call call, uintptr_t obj, uintptr_t obj2, int fd) {
  struct tw_wait_snap w;
  memset(&w, 0, sizeof(w));
  w.call = call;
  w.obj = obj;
  w.obj2 = obj2;
  w.fd = fd;
  return w;
}

static void test_fdset_poll_reads_the_callers_array(void **state) {
  (void)state;
  struct pollfd p[3] = {{5, POLLIN, 0}, {-1, POLLIN, 0}, {9, POLLOUT, 0}};
  struct tw_wait_snap w = wait_of(TW_CALL_POLL, (uintptr_t)p, 3, -1);
  struct tw_fdset_entry out[TW_FDSET_MAX];
  assert_int_equal(tw_fdset_of_wait(&w, out, TW_FDSET_MAX), 2); /* the negative fd is ignored */
  assert_int_equal(out[0].fd, 5);
  assert_int_equal(out[0].dirs, TW_FDSET_IN);
  assert_int_equal(out[1].fd, 9);
  assert_int_equal(out[1].dirs, TW_FDSET_OUT);
}

static void test_fdset_poll_of_a_bad_address_is_unknown(void **state) {
  (void)state;
  struct tw_wait_snap w = wait_of(TW_CALL_POLL, 8, 2, -1);
  struct tw_fdset_entry out[TW_FDSET_MAX];
  assert_int_equal(tw_fdset_of_wait(&w, out, TW_FDSET_MAX), -1);
}

static void test_fdset_select_reads_both_sets(void **state) {
  (void)state;
  fd_set r, wr;
  FD_ZERO(&r);
  FD_ZERO(&wr);
  FD_SET(3, &r);
  FD_SET(7, &r);
  FD_SET(7, &wr);
  struct tw_wait_snap w = wait_of(TW_CALL_SELECT, (uintptr_t)&r, (uintptr_t)&wr, 8);
  struct tw_fdset_entry out[TW_FDSET_MAX];
  assert_int_equal(tw_fdset_of_wait(&w, out, TW_FDSET_MAX), 2);
  assert_int_equal(out[0].fd, 3);
  assert_int_equal(out[0].dirs, TW_FDSET_IN);
  assert_int_equal(out[1].fd, 7);
  assert_int_equal(out[1].dirs, TW_FDSET_IN | TW_FDSET_OUT);
}

static void test_fdset_epoll_members_follow_ctl_and_close(void **state) {
  (void)state;
  int ep = 40, a = 41, b = 42;
  tw_fd_track(ep, TW_FD_EPOLL, tw_fd_new_obj());
  tw_fd_track(a, TW_FD_PIPE_R, tw_fd_new_obj());
  tw_fd_epoll_ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN);
  tw_fd_epoll_ctl(ep, EPOLL_CTL_ADD, b, EPOLLOUT); /* untracked: tracked now as OTHER */
  assert_int_equal(tw_fd_get(b) & TW_FD_KIND_MASK, TW_FD_OTHER);
  struct tw_wait_snap w = wait_of(TW_CALL_EPOLL_WAIT, 0, 0, ep);
  struct tw_fdset_entry out[TW_FDSET_MAX];
  assert_int_equal(tw_fdset_of_wait(&w, out, TW_FDSET_MAX), 2);
  assert_int_equal(out[0].fd, a);
  assert_int_equal(out[0].dirs, TW_FDSET_IN);
  assert_int_equal(out[1].fd, b);
  assert_int_equal(out[1].dirs, TW_FDSET_OUT);
  tw_fd_epoll_ctl(ep, EPOLL_CTL_DEL, b, 0);
  assert_int_equal(tw_fdset_of_wait(&w, out, TW_FDSET_MAX), 1);
  /* a dup keeps the registration when the original is closed */
  tw_fd_copy(a, 43);
  tw_fd_untrack(a);
  assert_int_equal(tw_fdset_of_wait(&w, out, TW_FDSET_MAX), 1);
  assert_int_equal(out[0].fd, 43);
  tw_fd_untrack(43);
  assert_int_equal(tw_fdset_of_wait(&w, out, TW_FDSET_MAX), 0);
}

static void test_fdset_an_fd_in_two_instances_makes_both_unknown(void **state) {
  (void)state;
  int e1 = 50, e2 = 51, p = 52;
  tw_fd_track(e1, TW_FD_EPOLL, tw_fd_new_obj());
  tw_fd_track(e2, TW_FD_EPOLL, tw_fd_new_obj());
  tw_fd_track(p, TW_FD_EVENTFD, tw_fd_new_obj());
  tw_fd_epoll_ctl(e1, EPOLL_CTL_ADD, p, EPOLLIN);
  assert_false(tw_fd_epoll_incomplete(e1));
  tw_fd_epoll_ctl(e2, EPOLL_CTL_ADD, p, EPOLLIN);
  assert_true(tw_fd_epoll_incomplete(e1));
  assert_true(tw_fd_epoll_incomplete(e2));
  struct tw_wait_snap w = wait_of(TW_CALL_EPOLL_WAIT, 0, 0, e1);
  struct tw_fdset_entry out[TW_FDSET_MAX];
  assert_int_equal(tw_fdset_of_wait(&w, out, TW_FDSET_MAX), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fdset_poll_reads_the_callers_array),
      cmocka_unit_test(test_fdset_poll_of_a_bad_address_is_unknown),
      cmocka_unit_test(test_fdset_select_reads_both_sets),
      cmocka_unit_test(test_fdset_epoll_members_follow_ctl_and_close),
      cmocka_unit_test(test_fdset_an_fd_in_two_instances_makes_both_unknown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
