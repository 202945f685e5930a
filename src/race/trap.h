/* The trap side of race watching, shared by its files (internal to race/): hardware watchpoints
 * armed in every thread (arm.c) through perf_event_open (perf.c), the SIGTRAP handler that records
 * each access (thread, read or write, locks held, stack) and checks it against the piece's shadow
 * (trap.c), the hook side of the happens-before bookkeeping (sync.c), start-up and fork (start.c).
 *
 * thread, the SIGTRAP handler that records each access (thread, read or write, locks held, stack)
 * and checks it against the piece's shadow, and the hook side of the happens-before bookkeeping.
 *
 * Hardware: one perf_event_open(PERF_TYPE_BREAKPOINT, HW_BREAKPOINT_RW) per watched piece and
 * thread, with sigtrap (a synchronous SIGTRAP, si_code TRAP_PERF, at the instruction after the
 * access; Linux 5.13+), remove_on_exec (an exec'd program never inherits them), inherit +
 * inherit_thread (threads created later get a copy from their creator; a fork child does not).
 * The threads alive when a range is armed each get their own event (perf_event_open on their tid).
 * Read or write: x86 has only write and read-write breakpoints; the trapping instruction (the one
 * that ended at the trap's instruction pointer, found by decoding its function from the start) says
 * which (race_x86.c).
 *
 * Page emulation (tests only, TW_TEST_RACE_BACKEND=page or =auto on a machine whose debug registers
 * do not fire, e.g. under a hypervisor that does not virtualise them): the watched tw__race_pages are
 * protected, a fault is single-stepped (trap flag) with the page open, and the step's SIGTRAP
 * queues the thread a TRAP_PERF SIGTRAP with the piece's sig_data, which arrives with the context
 * just after the access: the hardware's path from the signal on (same parsing, decoding, analysis).
 * It changes the program (a system call given a pointer into a watched page fails with EFAULT;
 * futex waits on such a page fail; another thread's access while the page is open is not seen):
 * only for test programs written for it (docs/race.md). */
#ifndef TW_RACE_TRAP_H
#define TW_RACE_TRAP_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <ucontext.h>

#include "base/atomic.h"
#include "race/state.h"
#include "runtime/tls.h"

enum tw__race_backend { BK_UNSET = 0, BK_HW, BK_PAGE, BK_OFF };
extern int tw__race_backend;
extern int tw__race_off_errno;   /* why it is off (returned by tw_race_watch) */
extern int tw__race_test_refuse; /* TW_TEST_RACE_BACKEND=refuse:ERRNO: perf_event_open fails so */
extern int tw__race_test_dead;   /* TW_TEST_RACE_BACKEND=dead: the self-test finds breakpoints dead */
extern int tw__race_test_mode;   /* 0 hardware only, 1 auto (page emulation if it does not fire),
                                  * 2 page emulation */

/* Counters (read by tests through the report, and by docs/race.md's cost figures). */
extern _Atomic uint64_t tw__race_traps_total, tw__race_traps_tool, tw__race_traps_async,
    tw__race_traps_untracked;

/* Per-thread trap state. Initial-exec TLS: the handler reads it without any call. */
struct tw_race_tls {
  int slot;            /* vector-clock slot + 1, 0 = none yet */
  int exited;          /* the thread has left: its slot is gone, its traps are ignored */
  int stepping;        /* page emulation: a faulting access is being single-stepped */
  int step_piece;      /* ... touching this piece (-1: another word of a watched page) */
  int step_page;
  int fault_write;
  int fault_kind;      /* page emulation: the fault's read/write for the TRAP_PERF it sends, 0 */
  int npending;        /* race pairs not yet sent (the ring was busy or full) */
  uint32_t pending[8], pending_gen[8];
};
extern __thread struct tw_race_tls tw__race_tls __attribute__((tls_model("initial-exec")));

/* The signal handlers and what they replaced (trap.c). */
extern struct sigaction tw__race_old_trap, tw__race_old_segv;
extern int tw__race_trap_installed, tw__race_segv_installed;
void tw__race_on_sigtrap(int sig, siginfo_t *si, void *ucv);
void tw__race_on_sigsegv(int sig, siginfo_t *si, void *ucv);
int tw__race_install(int sig, void (*fn)(int, siginfo_t *, void *), struct sigaction *old);
void tw__race_ensure_trap_handler(void);

/* The self-test's probe: a word with a breakpoint on it, and the traps it got (perf.c, trap.c). */
extern volatile long tw__race_probe_word;
extern _Atomic int tw__race_probe_hits;
#define PROBE_SIG_DATA (TW_RACE_SIG_MAGIC | 0xffff) /* piece 255: never a real one */

/* Page emulation: the pages with watched pieces, protected while no access is being stepped. */
struct tw_race_page {
  uintptr_t base;     /* 0: unused */
  int pieces;         /* watched pieces on it */
  _Atomic int lock;
  int steppers;       /* threads single-stepping an access to it (it is open meanwhile) */
};
extern struct tw_race_page tw__race_pages[TW_RACE_DEBUG_REGS];
extern uintptr_t tw__race_page_size;
void tw__race_page_lock(struct tw_race_page *p);
void tw__race_page_unlock(struct tw_race_page *p);
/* The index of the watched page that holds addr, -1 if none. */
int tw__race_page_index(uintptr_t addr);

/* Messages (perf.c): one line on the text log; race watching off for good, with why. */
void tw__race_log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tw__race_turn_off(int e, const char *why);
const char *tw__race_errno_name(int e);

/* perf_event_open (perf.c): a breakpoint on [addr, addr + len) of thread tid (0: this one) whose
 * SIGTRAP carries sig_data; the fd (moved high, close-on-exec) or -1 with errno. */
int tw__race_open_bp(pid_t tid, uintptr_t addr, uint32_t len, uint64_t sig_data);
uint64_t tw__race_sig_data_of(int piece);
/* Picks how accesses are trapped, the first time a range is armed (watch lock held). */
void tw__race_choose_backend(void);

/* The access side (trap.c): this thread's vector-clock slot (claimed on first use, -1 if none is
 * left), and the race pairs a trap could not send yet, sent from a hook (guard held). */
int tw__race_my_slot(void);
void tw__race_flush_pending(struct tw_tls *t);

/* Arming (arm.c), under the watch lock. */
void tw__race_watch_lock(void);
void tw__race_watch_unlock(void);
int tw__race_watch_locked(uintptr_t addr, size_t len, const char *label, int *needed);
void tw__race_disarm_piece(int i);
void tw__race_update_active(void);
int tw__race_free_registers(void);
int tw__race_add_fd(struct tw_race_piece *p, int fd);
void tw__race_close_fds(struct tw_race_piece *p);
/* " name (0x..., N bytes)" for the not-watched list. */
void tw__race_describe_request(char *out, size_t n, uintptr_t addr, size_t len, const char *label);
/* In a forked child: the watch lock made new. */
void tw__race_watch_after_fork_child(void);

#endif
