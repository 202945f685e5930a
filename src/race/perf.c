/* Race watching: messages, perf_event_open breakpoints, and the choice of how accesses are trapped
 * (hardware breakpoints, page emulation for tests, or off). */
#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/options.h"
#include "base/out.h"
#include "race/trap.h"
#include "report/emit.h"
#include "runtime/engine.h"

int tw__race_backend;
int tw__race_off_errno;
int tw__race_test_refuse;
int tw__race_test_mode;
int tw__race_test_dead;

/* ---------------------------------------------------------------------------------------------
 * Messages
 */

void tw__race_log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tw__race_log_line(const char *fmt, ...) {
  char line[1024];
  int n = snprintf(line, sizeof(line), "==%ld== threadwatch: ", (long)getpid());
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = strlen(line);
  if (len + 1 < sizeof(line)) memcpy(line + len, "\n", 2);
  tw_analysis_lock();
  tw_report_log_line(line);
  tw_analysis_unlock();
}

const char *tw__race_errno_name(int e) {
  switch (e) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "error";
  }
}

/* Race watching is off for good in this process: one line says why. */
void tw__race_turn_off(int e, const char *why) {
  tw__race_backend = BK_OFF;
  tw__race_off_errno = e;
  tw__race_log_line("race watching is off: %s; THREADWATCH_WATCH and threadwatch_watch() have no effect",
           why);
}

/* ---------------------------------------------------------------------------------------------
 * perf_event_open
 */

int tw__race_open_bp(pid_t tid, uintptr_t addr, uint32_t len, uint64_t sig_data) {
  if (tw__race_test_refuse) {
    errno = tw__race_test_refuse;
    return -1;
  }
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.type = PERF_TYPE_BREAKPOINT;
  a.size = sizeof(a);
  a.bp_type = HW_BREAKPOINT_RW;
  a.bp_addr = addr;
  a.bp_len = len;
  a.sample_period = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  a.sigtrap = 1;
  a.remove_on_exec = 1;
  a.inherit = 1;
  a.inherit_thread = 1;
  a.sig_data = sig_data;
  int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return -1;
  /* Above the numbers the application expects its own opens to get (see limits.h). */
  return tw__fd_move_high(fd);
}

uint64_t tw__race_sig_data_of(int piece) {
  return tw_race_sig_data((unsigned)piece, tw__race_pieces[piece].gen);
}

/* Whether a breakpoint fires here: some hypervisors accept perf_event_open for breakpoints but do
 * not load the debug registers. One read of a probe word with a breakpoint on it, SIGTRAP
 * unblocked.
 * Returns 0 (fires), 1 (does not fire), or the errno of a refused perf_event_open. */
static int self_test(void) {
  if (tw__race_test_dead) return 1; /* TW_TEST_RACE_BACKEND=dead: as on a VM whose registers never fire */
  int fd = tw__race_open_bp(0, (uintptr_t)&tw__race_probe_word, sizeof(tw__race_probe_word), PROBE_SIG_DATA);
  if (fd < 0) return errno ? errno : EINVAL;
  sigset_t trap, old;
  sigemptyset(&trap);
  sigaddset(&trap, SIGTRAP);
  pthread_sigmask(SIG_UNBLOCK, &trap, &old);
  int before = tw_load_relaxed(&tw__race_probe_hits);
  (void)tw__race_probe_word;
  __asm__ volatile("" ::: "memory");
  int fired = tw_load_relaxed(&tw__race_probe_hits) != before;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  tw__close(fd);
  return fired ? 0 : 1;
}

/* Picks how accesses are trapped, the first time a range is armed. */
void tw__race_choose_backend(void) {
  if (tw__race_backend != BK_UNSET) return;
  tw__race_ensure_trap_handler();
  if (!tw__race_trap_installed) {
    tw__race_turn_off(errno, "cannot install a SIGTRAP handler");
    return;
  }
  if (tw__race_test_mode == 2 || tw__opt.watch_mode == TW_WATCH_PAGE) {
    tw__race_backend = BK_PAGE;
  } else {
    int r = self_test();
    if (r == 0) {
      tw__race_backend = BK_HW;
    } else if (r == 1) {
      if (tw__race_test_mode == 1) {
        tw__race_backend = BK_PAGE;
      } else if (tw__opt.watch_mode == TW_WATCH_AUTO) {
        tw__race_backend = BK_PAGE;
        tw__race_log_line(
            "race watching uses page protection (THREADWATCH_WATCH_MODE=page): hardware watchpoints "
            "are accepted by perf_event_open but never fire on this machine; every access to a "
            "watched page traps (a few microseconds each, whatever else the page holds), a system "
            "call given a pointer into it fails with EFAULT, and a program's own SIGSEGV handler "
            "sees only the faults that are not ours");
      } else {
        tw__race_turn_off(ENOTSUP, "hardware watchpoints are accepted by perf_event_open but never "
                          "fire on this machine (a hypervisor without debug-register support?); "
                          "THREADWATCH_WATCH_MODE=page watches with page protection instead");
      }
    } else {
      char why[200];
      switch (r) {
        case EACCES: case EPERM:
          snprintf(why, sizeof(why), "perf_event_open is not permitted (%s; see "
                   "/proc/sys/kernel/perf_event_paranoid, or a seccomp or container policy)",
                   tw__race_errno_name(r));
          break;
        case ENOSYS:
          snprintf(why, sizeof(why), "this kernel has no perf_event_open (ENOSYS)");
          break;
        case ENOENT: case EOPNOTSUPP:
          snprintf(why, sizeof(why), "this kernel or CPU has no hardware breakpoint events (%s)",
                   tw__race_errno_name(r));
          break;
        case EINVAL:
          snprintf(why, sizeof(why), "this kernel cannot send a synchronous SIGTRAP for a "
                   "breakpoint (EINVAL; needs Linux 5.13 or later)");
          break;
        case ENOSPC:
          snprintf(why, sizeof(why), "no debug register is free (ENOSPC; a debugger uses them?)");
          break;
        default: snprintf(why, sizeof(why), "perf_event_open failed (%s)", strerror(r));
      }
      tw__race_turn_off(r, why);
    }
  }
  if (tw__race_backend == BK_PAGE) {
    tw__race_page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (tw__race_install(SIGSEGV, tw__race_on_sigsegv, &tw__race_old_segv) == 0) tw__race_segv_installed = 1;
    else tw__race_turn_off(errno, "cannot install a SIGSEGV handler for page emulation");
  }
}

