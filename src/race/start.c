/* Race watching: start-up (THREADWATCH_WATCH) and fork. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/elfsym.h"
#include "base/msg.h"
#include "base/options.h"
#include "base/out.h"
#include "base/tw.h"
#include "race/hb.h"
#include "race/hook.h"
#include "race/race.h"
#include "race/trap.h"

/* ---------------------------------------------------------------------------------------------
 * Start-up and fork
 */

static void read_test_env(void) {
  /* A test hook, not an option: see docs/race.md. */
  const char *m = getenv("TW_TEST_RACE_BACKEND");
  if (!m) return;
  if (strcmp(m, "auto") == 0) tw__race_test_mode = 1;
  else if (strcmp(m, "page") == 0) tw__race_test_mode = 2;
  else if (strcmp(m, "dead") == 0) tw__race_test_dead = 1;
  else if (strncmp(m, "refuse:", 7) == 0) {
    static const struct { const char *name; int e; } names[] = {
        {"EACCES", EACCES}, {"EPERM", EPERM}, {"ENOSYS", ENOSYS}, {"ENOENT", ENOENT},
        {"EINVAL", EINVAL}};
    for (size_t i = 0; i < TW_ARRAY_LEN(names); i++)
      if (strcmp(m + 7, names[i].name) == 0) tw__race_test_refuse = names[i].e;
  }
}

static void die(const char *msg) {
  tw_msg_str(msg);
  _exit(2);
}

void tw_race_init(void) {
  read_test_env(); /* also for threadwatch_watch() later */
  const char *spec = tw__opt.watch;
  if (!spec[0]) return;
  struct tw_race_item items[TW_RACE_MAX_RANGES];
  char err[1024];
  int n = tw__race_parse_spec(spec, items, TW_RACE_MAX_RANGES, err, sizeof(err));
  if (n < 0) die(err);
  /* Every symbol first: a bad name is an error before anything is armed. */
  for (int k = 0; k < n; k++) {
    if (!items[k].sym[0]) continue;
    struct tw_elfsym s;
    int rc = tw_elfsym_lookup(items[k].sym, &s);
    const char *why = NULL;
    char buf[400];
    switch (rc) {
      case 0: break;
      case -EISDIR: why = "is a function, not a variable"; break;
      case -EBADSLT: why = "is thread-local (each thread has its own copy; watch one copy with "
                           "threadwatch_watch)"; break;
      case -ENOTUNIQ:
        snprintf(buf, sizeof(buf), "names several `static` variables in %s (give 0xADDR:LEN)",
                 s.module);
        why = buf;
        break;
      case -ENODATA: why = "has no size in the symbol table (give 0xADDR:LEN)"; break;
      default: {
        /* Not a parse error: THREADWATCH_WATCH is inherited by every process the program starts
         * (and by wrappers such as `timeout` or `sh -c` that start it), which do not have the
         * variable. One line, and nothing watched for that name in this process. */
        char exe[256] = "?";
        ssize_t k2 = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (k2 > 0) exe[k2] = '\0';
        snprintf(err, sizeof(err), "threadwatch: THREADWATCH_WATCH: '%s' is not a global variable "
                 "of this process (%s, pid %ld: its executable and loaded libraries, .symtab and "
                 ".dynsym; a stripped file has only exported ones); not watched here", items[k].sym,
                 exe, (long)getpid());
        tw_msg_str(err);
        items[k].sym[0] = '\0';
        items[k].len = 0; /* skipped below */
        continue;
      }
    }
    if (why) {
      snprintf(err, sizeof(err), "threadwatch: THREADWATCH_WATCH='%s' is not valid: '%s' %s; "
               "expected a comma-separated list of global variable names and 0xADDR:LEN address "
               "ranges", spec, items[k].sym, why);
      die(err);
    }
    items[k].addr = s.addr;
    items[k].len = s.size;
  }
  tw__race_watch_lock();
  char missing[600] = "";
  size_t off = 0;
  int asked = 0, total = 0;
  for (int k = 0; k < n; k++) {
    if (items[k].len == 0) continue; /* a name this process does not have */
    int needed;
    int rc = tw__race_watch_locked(items[k].addr, items[k].len, items[k].sym, &needed);
    total += needed;
    if (tw__race_backend == BK_OFF) break; /* said once by tw__race_turn_off */
    if (rc == 0) continue;
    char what[200];
    tw__race_describe_request(what, sizeof(what), items[k].addr, items[k].len, items[k].sym);
    if (rc != ENOSPC) snprintf(what + strlen(what), sizeof(what) - strlen(what), " [%s]",
                               strerror(rc));
    if (off < sizeof(missing))
      off += (size_t)snprintf(missing + off, sizeof(missing) - off, "%s%s", asked ? ", " : "",
                              what);
    asked++;
  }
  if (asked)
    tw__race_log_line("race watching: THREADWATCH_WATCH needs %d debug registers, a thread has %d: not "
             "watching %s", total, TW_RACE_DEBUG_REGS, missing);
  if (__atomic_load_n(&tw__race_on, __ATOMIC_RELAXED)) (void)tw__race_my_slot();
  tw__race_watch_unlock();
}

void tw_race_fork_child(void) {
  tw__race_watch_after_fork_child();
  if (!__atomic_load_n(&tw__race_on, __ATOMIC_RELAXED)) return;
  /* The child is this one thread: every other slot, object and pending pair is the parent's. */
  tw_hb_reset(tw__race_tls.slot - 1);
  tw_race_pairs_reset();
  tw__race_tls.npending = 0;
  for (int i = 0; i < TW_RACE_DEBUG_REGS; i++) {
    struct tw_race_piece *p = &tw__race_pieces[i];
    if (!tw_load_relaxed(&p->armed)) continue;
    memset(&p->shadow, 0, sizeof(p->shadow));
    if (tw__race_backend != BK_HW) continue;
    /* The fds are copies of the parent's events (on the parent's threads); perf events are not
     * inherited by a fork child (inherit_thread), so this thread gets its own. */
    tw__race_close_fds(p);
    int fd = tw__race_open_bp(0, p->addr, p->len, tw__race_sig_data_of(i));
    if (fd < 0 || tw__race_add_fd(p, fd) != 0) {
      if (fd >= 0) tw__close(fd);
      tw_store_release(&p->armed, 0);
    }
  }
  if (tw__race_backend == BK_PAGE) {
    tw__race_tls.stepping = 0;
    for (int k = 0; k < TW_RACE_DEBUG_REGS; k++) {
      if (!tw__race_pages[k].pieces) continue;
      tw_store_relaxed(&tw__race_pages[k].lock, 0);
      tw__race_pages[k].steppers = 0;
      mprotect((void *)tw__race_pages[k].base, tw__race_page_size, PROT_NONE);
    }
  }
  tw__race_update_active();
}
