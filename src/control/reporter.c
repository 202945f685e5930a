/* The reporter thread: sleeps a tick (or until a producer with a full ring nudges), then runs one
 * analysis pass under the analysis lock. */
#include "control/reporter.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/msg.h"
#include "base/real.h"
#include "control/socket.h"
#include "detect/dispatch.h"
#include "detect/summary.h"
#include "detect/waits.h"
#include "runtime/engine.h"
#include "runtime/ring.h"
#include "runtime/tls.h"

static _Atomic int exit_wanted;
static uint64_t last_drained;

void tw_reporter_tick(uint64_t now_ns, bool final) {
  last_drained = tw_detect_drain();
  tw_detect_tick(now_ns, final);
  if (!final) tw_control_poll();
}

void tw_reporter_wake_for_exit(void) { tw_store_release(&exit_wanted, 1); }

static void *reporter_main(void *arg) {
  (void)arg;
  struct tw_tls *t = tw_tls();
  t->guard = 1; /* for good: every hooked call this thread makes goes straight through */
  t->gone = true;
  tw_summary_start(tw__now_ns());
  for (;;) {
    /* Sleep a tick, or less after a busy drain, or until a producer with a full ring nudges. */
    tw_ring_wait_nudge(last_drained > TW_RING_SLOTS / 8 || tw_control_busy() ? TW_TICK_BUSY_NS
                                                                               : TW_TICK_NS);
    tw_store_relaxed(&tw__coarse_tick, (uint32_t)(tw__now_ns() / TW_COARSE_TICK_NS));
    if (tw_load_acquire(&exit_wanted)) {
      /* main called pthread_exit and every application thread has left: leave too, so glibc ends
       * the process (exit(0), our destructor writes the exit reports on this thread). */
      TW_REAL_FN(pthread_exit)(NULL);
    }
    tw_analysis_lock();
    tw_reporter_tick(tw__now_ns(), false);
    tw_analysis_unlock();
  }
  return NULL;
}

void tw_reporter_ensure_started(void) {
  if (tw_likely(tw_engine_running())) return;
  int expected = 0;
  if (!atomic_compare_exchange_strong(&tw__engine_started, &expected, 1)) return;
  /* The dump socket is made here, on the thread starting the reporter, before the program can go
   * on (a server about to drop privileges makes it as the user it started as). */
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw_analysis_lock();
  tw_control_start();
  tw_analysis_unlock();
  tw_guard_leave(t);
  /* The clock of held locks starts now (the reporter advances it from its first tick on). */
  tw_store_relaxed(&tw__coarse_tick, (uint32_t)(tw__now_ns() / TW_COARSE_TICK_NS));
  /* The reporter must never run the application's signal handlers: it starts with all blocked. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t th;
  int rc = TW_REAL_FN(pthread_create)(&th, &attr, reporter_main, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    tw_msg_str("threadwatch: cannot start the reporter thread; reports are made at exit only");
    return;
  }
  TW_REAL_FN(pthread_setname_np)(th, "threadwatch");
}

/* A raw futex wait, not a cancellation point (pthread_mutex_lock is not one either). */
void tw_reporter_await(void) {
  uint32_t seen = tw_load_acquire(&tw__scans_done);
  uint64_t deadline = tw__now_ns() + TW_SELF_RELOCK_WAIT_NS;
  tw_ring_nudge();
  for (uint64_t now = tw__now_ns(); now < deadline; now = tw__now_ns()) {
    uint32_t cur = tw_load_acquire(&tw__scans_done);
    if (cur - seen >= 2) return; /* a whole scan ran after the wait was published */
    uint64_t left = deadline - now;
    struct timespec ts = {(time_t)(left / 1000000000ull), (long)(left % 1000000000ull)};
    syscall(SYS_futex, &tw__scans_done, (long)FUTEX_WAIT_PRIVATE, (long)cur, &ts, NULL, 0L);
  }
}

void tw_reporter_after_fork_child(void) {
  tw_store_relaxed(&exit_wanted, 0);
  tw_control_after_fork_child();
}
