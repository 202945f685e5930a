/* Process lifecycle: one-time initialisation, fork (our own atfork handlers, and the reset of a
 * child that no handler saw), and the exit path with its status rule (hazards 7, 13). */
#include "control/init.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/demangle.h"
#include "base/msg.h"
#include "base/options.h"
#include "base/out.h"
#include "base/real.h"
#include "control/reporter.h"
#include "control/socket.h"
#include "detect/dispatch.h"
#include "detect/misuse.h"
#include "race/race.h"
#include "report/emit.h"
#include "report/suppress.h"
#include "report/symbolize.h"
#include "runtime/contention.h"
#include "runtime/engine.h"
#include "runtime/fdtrack.h"
#include "runtime/fork.h"
#include "runtime/registry.h"
#include "runtime/stackdepot.h"
#include "runtime/tls.h"

/* glibc's: registers fn to run at exit(); glibc calls it with (arg, exit status) (stdlib/exit.c),
 * though the C++ ABI declares one argument. dso NULL: never unregistered. */
extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);
typedef void (*tw_cxa_fn)(void *);

_Atomic int tw__init_done;
static _Atomic int init_busy;
static _Atomic pid_t init_tid; /* the thread running tw__init_slow */

static _Atomic int main_left; /* the initial thread called pthread_exit */
static _Atomic int finished;

static void exit_handler(void *arg, int status);
static void atfork_prepare(void);
static void atfork_parent(void);
static void atfork_child(void);
static void child_reset(bool consistent);
static void bypass_reset(bool consistent);

/* Another thread is initialising: wait for it. In a child forked (without our handlers) while
 * another thread was initialising, that thread is not there: take over. */
static void wait_for_init(void) {
  for (unsigned spins = 0; !tw_load_acquire(&tw__init_done); spins++) {
    if (spins % 1024 == 1023) {
      pid_t other = tw_load_relaxed(&init_tid);
      if (other && syscall(SYS_tgkill, getpid(), other, 0) != 0) {
        tw_store_relaxed(&init_busy, 0);
        tw__init_slow();
        return;
      }
    }
    sched_yield();
  }
}

void tw__init_slow(void) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&init_busy, &expected, 1)) {
    /* This thread is initialising already (a library initialised below calls a hook): go on
     * uninitialised, the caller is tool code. Another thread is (a foreign thread races the first
     * hook): wait for it, it does not wait for us. */
    if (tw_load_relaxed(&init_tid) == gettid()) return;
    wait_for_init();
    return;
  }
  tw_store_relaxed(&init_tid, gettid());
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw__real_resolve();
  tw__stderr_init(); /* the tool's copy of stderr, before the program can close or reuse fd 2 */
  tw__options_load(); /* a bad value exits with status 2 here, before main */
  tw_profile_configure(tw__opt.profile, tw__opt.profile_rate);
  tw__suppress_load();
  tw_report_init(); /* THREADWATCH_LOG=stdout: a copy of fd 1 before the program can move it */
  tw__stack_init();
  tw_demangle_init(); /* before THREADWATCH_WATCH: C++ globals are found by their demangled names */
  tw_race_init(); /* THREADWATCH_WATCH: a bad item exits with status 2 here */
  /* A server started as root may drop privileges before its first report: open the files now. */
  if (geteuid() == 0) {
    tw_report_open_early();
    tw_symbolize_prepare();
  }
  tw_fork_mark_init();
  tw_fork_set_reset(bypass_reset);
  /* Registered now, before most other libraries' (this runs at the first hook or our constructor):
   * prepare handlers run in reverse order of registration and parent/child handlers in order, so
   * the application's handlers run before our prepare and after our parent/child handler, with no
   * tool lock held and the stack-capture gate open (an application handler that writes to a pipe
   * or takes a lock must not wait for us). daemon() runs them too. */
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  /* Registered before __libc_start_main registers the dynamic linker's destructor pass, so it
   * runs after every library's destructor and the application's atexit handlers: the exit reports
   * see the process as the program left it (a pool joined by its library's destructor is not a
   * leak), and the exit status is decided last. */
  __cxa_atexit((tw_cxa_fn)(void (*)(void))exit_handler, NULL, NULL);
  tw_store_release(&tw__init_done, 1);
  tw_guard_leave(t);
}

void tw__note_pthread_exit(void) {
  if (gettid() != getpid()) return;
  /* When the last thread leaves after this, glibc ends the process with exit(0). */
  tw_store_relaxed(&main_left, 1);
  tw_reporter_ensure_started(); /* it ends the process's wait for our thread when the last one goes */
}

void tw__note_thread_left(void) {
  if (!tw_load_relaxed(&main_left)) return;
  struct tw_registry_counts c;
  tw_registry_counts(&c);
  if (c.live == 0) tw_reporter_wake_for_exit();
}

/* The exit path: the last drain, the exit-time reports. Once per process. */
static void finish_once(void) {
  if (atomic_exchange(&finished, 1)) return;
  struct tw_tls *t = tw_tls();
  tw_guard_enter(t);
  tw_analysis_lock();
  tw_reporter_tick(tw__now_ns(), true);
  tw_detect_at_exit();
  tw_report_at_exit(); /* writers' end, suppression counts */
  tw_report_close_unused();
  tw_control_stop();
  tw_analysis_unlock();
  tw_guard_leave(t);
}

/* Runs inside exit(), on the thread that called it (main's return, and the last thread leaving
 * after main called pthread_exit, end in exit too), after every destructor. The exit status rule:
 * a process that made reports and would exit 0 exits THREADWATCH_EXITCODE instead. exit() called
 * again from an exit handler runs the handlers still due and ends with the new status (glibc:
 * "use the status value in the last exit"). */
static void exit_handler(void *arg, int status) {
  (void)arg;
  if (!tw_load_acquire(&tw__init_done)) return;
  /* The thread ending the process while holding locks (Helgrind's tc04): what another thread, or
   * an exit handler, waiting for them would wait for forever. Its events are drained just below. */
  struct tw_tls *t = tw_tls();
  if (!t->gone && !t->guard && t->self && t->nheld) {
    tw_guard_enter(t);
    tw_misuse_push_exit_holding(t, t->self, true);
    tw_guard_leave(t);
  }
  finish_once();
  uint64_t failing = tw_report_failing_count(), made = tw_report_count();
  if (status == 0 && tw__opt.exitcode != 0 && failing > 0) exit((int)tw__opt.exitcode);
  if (made > 0 && failing == 0 && tw__opt.exitcode != 0)
    tw_msg("==%ld== threadwatch: %llu report%s, none that THREADWATCH_FAIL_ON=%s names: the exit "
           "status is the program's own (%d)", (long)getpid(), (unsigned long long)made,
           made == 1 ? "" : "s", tw__opt.fail_on, status);
}

/* --- fork ---------------------------------------------------------------------------------- */

/* What the prepare handler got, for the child (which has a copy) and the parent. */
static bool fork_walks_done, fork_analysis_locked;

static void atfork_prepare(void) {
  struct tw_tls *t = tw_tls();
  /* Until the parent or child handler, this thread's hooked calls pass straight through: an
   * application handler registered before ours runs after this one, with our locks held. */
  tw_guard_enter(t);
  fork_walks_done = tw_unwind_fork_prepare(); /* first: a walk in flight takes none of the locks */
  tw_fd_note_fork(); /* the child may keep pipe ends: their readers may be fed from outside */
  fork_analysis_locked = tw_engine_fork_prepare(); /* no report is half-written in the child */
  tw_registry_fork_prepare();
}

static void atfork_parent(void) {
  struct tw_tls *t = tw_tls();
  tw_registry_fork_parent();
  tw_engine_fork_parent();
  tw_unwind_fork_done(false, true);
  tw_guard_leave(t);
}

static void atfork_child(void) {
  struct tw_tls *t = tw_tls();
  tw_unwind_fork_done(true, fork_walks_done);
  child_reset(fork_analysis_locked);
  tw_fork_mark_set();
  tw_guard_leave(t);
}

/* The child has one thread, this one: keep its record, forget the others, make every tool lock new,
 * restart nothing until needed. `consistent`: the fork went through our prepare handler with the
 * analysis lock held (a child that no handler saw, or one whose prepare could not get the lock,
 * abandons the analysis state instead of walking it). */
static void child_reset(bool consistent) {
  struct tw_tls *t = tw_tls();
  if (!tw_load_acquire(&tw__init_done)) { /* forked while another thread was initialising */
    tw_store_relaxed(&init_busy, 0);
    tw_store_relaxed(&init_tid, 0);
  }
  tw_registry_after_fork_child(t->self, consistent);
  tw_race_fork_child();
  tw_contention_after_fork_child();
  tw_engine_after_fork_child();
  tw_reporter_after_fork_child();
  tw_detect_after_fork_child(consistent);
  tw_report_after_fork_child();
  tw_store_relaxed(&main_left, 0);
  tw_store_relaxed(&finished, 0);
}

/* A child that no atfork handler saw (_Fork, clone without CLONE_VM): found by the wipe-on-fork
 * mark at its first tool lock. The copied walk counter says whether a stack walk was cut. */
static void bypass_reset(bool consistent) {
  tw_unwind_fork_done(true, tw_unwind_idle());
  child_reset(consistent);
}
