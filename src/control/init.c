/* Process lifecycle: one-time initialisation, the exit status rule, fork. */
#include "control/init.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "base/demangle.h"
#include "base/options.h"
#include "base/real.h"
#include "control/reporter.h"
#include "control/socket.h"
#include "detect/dispatch.h"
#include "race/race.h"
#include "report/report.h"
#include "report/suppress.h"
#include "runtime/engine.h"
#include "runtime/fdtrack.h"
#include "runtime/registry.h"
#include "runtime/stackdepot.h"
#include "runtime/tls.h"
#include "report/emit.h"

_Atomic int tw__init_done;
static _Atomic int init_busy;
static _Atomic pid_t init_tid; /* the thread running tw__init_slow */

/* How the process is leaving, for the exit status rule. */
static _Atomic int exit_status_known;
static _Atomic int exit_status;
static _Atomic int main_left; /* the initial thread called pthread_exit */
static _Atomic int finished;

void tw__init_slow(void) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&init_busy, &expected, 1)) {
    /* This thread is initialising already (a library initialised below calls a hook): go on
     * uninitialised, the caller is tool code. Another thread is (a foreign thread races the first
     * hook): wait for it, it does not wait for us. */
    if (tw_load_relaxed(&init_tid) == gettid()) return;
    while (!tw_load_acquire(&tw__init_done)) sched_yield();
    return;
  }
  tw_store_relaxed(&init_tid, gettid());
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw__real_resolve();
  tw__options_load(); /* a bad value exits with status 2 here, before main */
  tw__suppress_load();
  tw__stack_init();
  tw_demangle_init(); /* before THREADWATCH_WATCH: C++ globals are found by their demangled names */
  tw_race_init(); /* THREADWATCH_WATCH: a bad item exits with status 2 here */
  tw_store_release(&tw__init_done, 1);
  tw_guard_leave(t);
}

void tw__note_pthread_exit(void) {
  if (gettid() != getpid()) return;
  /* When the last thread leaves after this, glibc ends the process with exit(0). */
  tw_store_relaxed(&main_left, 1);
  tw_reporter_ensure_started(); /* it ends the process's wait for our thread when the last one goes */
}

void tw__note_exit_status(int status) {
  tw_store_relaxed(&exit_status, status);
  tw_store_release(&exit_status_known, 1);
}

void tw__note_thread_left(void) {
  if (!tw_load_relaxed(&main_left)) return;
  struct tw_registry_counts c;
  tw_registry_counts(&c);
  if (c.live == 0) tw_reporter_wake_for_exit();
}

static void finish_once(void) {
  if (atomic_exchange(&finished, 1)) return;
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw_analysis_lock();
  tw_reporter_tick(tw__now_ns(), true);
  tw_detect_at_exit();
  tw_control_stop();
  tw_analysis_unlock();
  tw_guard_leave(t);
}

int tw__finish(void) {
  if (!tw_load_acquire(&tw__init_done)) return -1;
  finish_once();
  /* The exit status rule: a process that made reports and would exit 0 exits THREADWATCH_EXITCODE.
   * The status is known when exit() came through our hook, main returned through our wrapper, or
   * the last thread left after main called pthread_exit (glibc then exits with 0). */
  int known = tw_load_acquire(&exit_status_known);
  int status = known ? tw_load_relaxed(&exit_status) : 0;
  if (!known && tw_load_relaxed(&main_left)) known = 1;
  if (known && status == 0 && tw__opt.exitcode != 0 && tw_report_count() > 0)
    return (int)tw__opt.exitcode;
  return -1;
}

void tw__fork_prepare(void) {
  tw_unwind_fork_prepare(); /* first: a walk in flight takes none of the locks below */
  tw_fd_note_fork(); /* the child may keep pipe ends: their readers may be fed from outside */
  tw_engine_fork_prepare(); /* takes the analysis lock: no report is half-written in the child */
  tw_registry_fork_prepare();
}

void tw__fork_parent(void) {
  tw_registry_fork_parent();
  tw_engine_fork_parent();
  tw_unwind_fork_done(false);
}

void tw__fork_child(void) {
  struct tw_tls *t = tw_tls();
  tw_unwind_fork_done(true);
  tw_registry_after_fork_child(t->self);
  tw_race_fork_child();
  tw_engine_after_fork_child();
  tw_reporter_after_fork_child();
  tw_detect_after_fork_child();
  tw_report_after_fork_child();
  tw_store_relaxed(&exit_status_known, 0);
  tw_store_relaxed(&main_left, 0);
  tw_store_relaxed(&finished, 0);
}
