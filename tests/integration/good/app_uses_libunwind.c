/*
 * A program that walks its own stack with libunwind (crash handlers, loggers, profilers such as
 * gperftools; this project's own unit test test_stackdepot): libunwind's first walk through a
 * module takes two of its own mutexes, nested, through pthread_mutex_lock. threadwatch's hook for
 * the inner one (a lock-order edge) must not capture a stack with the same libunwind: that walk
 * would wait for the outer mutex its own thread holds (it hung here, 5 of 5 runs). The walk starts
 * in a libc callback so that it crosses libc's unwind tables cold, and an application lock is held
 * around it, so the walk's locks nest inside one of ours.
 */
// build: -lunwind
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "tw_test.h"

static pthread_mutex_t app_lock = PTHREAD_MUTEX_INITIALIZER;
static int frames;

static int cmp(const void *a, const void *b) {
  if (!frames) {
    void *pcs[64];
    frames = unw_backtrace(pcs, 64);
  }
  return *(const int *)a - *(const int *)b;
}

static void *sorter(void *arg) {
  int v[4] = {3, 1, 2, 0};
  TW_OK(pthread_mutex_lock(&app_lock));
  qsort(v, 4, sizeof(int), cmp);
  TW_OK(pthread_mutex_unlock(&app_lock));
  return arg;
}

int main(void) {
  pthread_t t;
  TW_OK(pthread_create(&t, NULL, sorter, NULL));
  TW_OK(pthread_join(t, NULL));
  TW_CHECK(frames > 0);
  int v[4] = {3, 1, 2, 0};
  frames = 0;
  qsort(v, 4, sizeof(int), cmp); /* main, with no lock held */
  TW_CHECK(frames > 0);
  return 0;
}
