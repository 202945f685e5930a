/* The race programs' two threads, which access the watched data one at a time while main waits in
 * pthread_join touching nothing: page emulation (docs/race.md) opens the watched page while a
 * thread steps an access to it, and an access by another thread in that moment is not seen (main
 * joins through a pointer: a call through the PLT reads the GOT, which shares the page; the second
 * thread's polling does too, so the first spreads its accesses out). Each waits for its turn by
 * watching the kernel, never through a pthread call: nothing orders the two threads for
 * threadwatch. Static, included by one program each (after tw_test.h). */
#ifndef TW_RACE_TURNS_H
#define TW_RACE_TURNS_H

#include <pthread.h>

static pid_t turns_main_tid;
static volatile pid_t turns_first_tid;
static volatile int turns_main_joining;

static void turns_wait_for_main(void) {
  unsigned long spins = 0;
  while (!turns_main_joining) tw_test_pause(&spins, "main to join", 0, 0);
  tw_test_wait_in_syscall(turns_main_tid, SYS_futex);
}

/* The first thread's first call: then its accesses. */
static void turn_first(void) {
  turns_first_tid = tw_test_gettid();
  turns_wait_for_main();
}

/* The second thread's first call: it returns once the first thread is gone. */
static void turn_second(void) {
  turns_wait_for_main();
  tw_test_wait_gone(turns_first_tid);
}

/* Runs first(first_arg), then second(second_arg), in turns; `between` (may be NULL) runs once the
 * first thread exists, before the second is created. Returns after joining both. */
static void run_in_turns(void *(*first)(void *), void *first_arg, void *(*second)(void *),
                         void *second_arg, void (*between)(void)) {
  pthread_t a, b;
  turns_main_tid = tw_test_gettid();
  int (*volatile join)(pthread_t, void **) = pthread_join; /* see the top of this file */
  TW_OK(pthread_create(&a, NULL, first, first_arg));
  unsigned long spins = 0;
  while (turns_first_tid == 0) tw_test_pause(&spins, "the first thread to start", 0, 0);
  if (between) between();
  TW_OK(pthread_create(&b, NULL, second, second_arg));
  turns_main_joining = 1;
  TW_OK(join(b, NULL));
  TW_OK(join(a, NULL));
}

#endif
