/* Race watching: arming and disarming the watched pieces in every thread, threadwatch_watch() and
 * threadwatch_unwatch(). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/out.h"
#include "base/real.h"
#include "race/hook.h"
#include "race/race.h"
#include "race/trap.h"

static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER; /* ranges, pieces, arming */

/* ---------------------------------------------------------------------------------------------
 * Arming
 */

int tw__race_add_fd(struct tw_race_piece *p, int fd) {
  if (p->nfds == p->capfds) {
    int cap = p->capfds ? p->capfds * 2 : 8;
    int *n = realloc(p->fds, sizeof(int) * (size_t)cap);
    if (!n) return -ENOMEM;
    p->fds = n;
    p->capfds = cap;
  }
  p->fds[p->nfds++] = fd;
  return 0;
}

void tw__race_close_fds(struct tw_race_piece *p) {
  for (int i = 0; i < p->nfds; i++) tw__close(p->fds[i]);
  p->nfds = 0;
}

/* Every thread of the process, from the kernel's list (threads we never saw included). */
static int for_each_other_thread(struct tw_race_piece *p, int piece) {
  pid_t me = (pid_t)syscall(SYS_gettid);
  DIR *d = opendir("/proc/self/task");
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    pid_t tid = (pid_t)atoi(e->d_name);
    if (tid <= 0 || tid == me) continue;
    int fd = tw__race_open_bp(tid, p->addr, p->len, tw__race_sig_data_of(piece));
    if (fd >= 0 && tw__race_add_fd(p, fd) != 0) tw__close(fd);
    /* ESRCH: it has exited since. Others: that thread stays unwatched. */
  }
  closedir(d);
  return 0;
}

static void page_add(uintptr_t addr) {
  uintptr_t base = addr & ~(tw__race_page_size - 1);
  int free_k = -1;
  for (int k = 0; k < TW_RACE_DEBUG_REGS; k++) {
    if (tw__race_pages[k].pieces && tw__race_pages[k].base == base) {
      tw__race_pages[k].pieces++;
      return;
    }
    if (!tw__race_pages[k].pieces && free_k < 0) free_k = k;
  }
  tw__race_pages[free_k].base = base;
  tw__race_pages[free_k].steppers = 0;
  tw__race_pages[free_k].pieces = 1;
  mprotect((void *)base, tw__race_page_size, PROT_NONE);
}

static void page_remove(uintptr_t addr) {
  int k = tw__race_page_index(addr);
  if (k < 0) return;
  tw__race_page_lock(&tw__race_pages[k]);
  if (--tw__race_pages[k].pieces == 0) mprotect((void *)tw__race_pages[k].base, tw__race_page_size, PROT_READ | PROT_WRITE);
  tw__race_page_unlock(&tw__race_pages[k]);
}

/* Arms piece slot `i` (free) on [addr, addr + len) for range `range`. Returns 0 or an errno. */
static int arm_piece(int i, uint16_t range, uintptr_t addr, uint32_t len) {
  struct tw_race_piece *p = &tw__race_pieces[i];
  p->gen++;
  p->range = range;
  p->addr = addr;
  p->len = len;
  memset(&p->shadow, 0, sizeof(p->shadow));
  p->nfds = 0;
  if (tw__race_backend == BK_HW) {
    int fd = tw__race_open_bp(0, addr, len, tw__race_sig_data_of(i));
    if (fd < 0) return errno ? errno : EINVAL;
    if (tw__race_add_fd(p, fd) != 0) {
      tw__close(fd);
      return ENOMEM;
    }
    for_each_other_thread(p, i);
  } else {
    page_add(addr);
  }
  tw_store_release(&p->armed, 1);
  return 0;
}

void tw__race_disarm_piece(int i) {
  struct tw_race_piece *p = &tw__race_pieces[i];
  if (!tw_load_relaxed(&p->armed)) return;
  tw_store_release(&p->armed, 0);
  if (tw__race_backend == BK_HW) tw__race_close_fds(p);
  else page_remove(p->addr);
}

int tw__race_free_registers(void) {
  int n = 0;
  for (int i = 0; i < TW_RACE_DEBUG_REGS; i++) n += !tw_load_relaxed(&tw__race_pieces[i].armed);
  return n;
}

void tw__race_update_active(void) {
  int any = 0;
  for (int i = 0; i < TW_RACE_DEBUG_REGS; i++) any |= tw_load_relaxed(&tw__race_pieces[i].armed);
  __atomic_store_n(&tw__race_on, any, __ATOMIC_RELEASE);
}

static int new_range(uintptr_t addr, size_t len, const char *label, int state) {
  for (int r = 0; r < TW_RACE_MAX_RANGES; r++) {
    if (tw__race_ranges[r].state != TW_RR_FREE) continue;
    tw__race_ranges[r].state = state;
    tw__race_ranges[r].addr = addr;
    tw__race_ranges[r].len = len;
    snprintf(tw__race_ranges[r].label, sizeof(tw__race_ranges[r].label), "%s", label ? label : "");
    return r;
  }
  return -1;
}

/* " name (0x..., N bytes)" for the not-watched list. */
void tw__race_describe_request(char *out, size_t n, uintptr_t addr, size_t len, const char *label) {
  snprintf(out, n, "%s%s(%#lx, %lu byte%s)", label && label[0] ? label : "",
           label && label[0] ? " " : "", (unsigned long)addr, (unsigned long)len,
           len == 1 ? "" : "s");
}

/* Watches one range (watch lock held). *needed: registers it needs. Returns 0 or an errno. */
int tw__race_watch_locked(uintptr_t addr, size_t len, const char *label, int *needed) {
  uintptr_t pa[TW_RACE_DEBUG_REGS];
  uint32_t pl[TW_RACE_DEBUG_REGS];
  *needed = 0;
  if (len == 0 || addr == 0 || addr + len < addr) return EINVAL;
  int n = tw__race_pieces_of(addr, len, pa, pl, TW_RACE_DEBUG_REGS);
  *needed = n;
  tw__race_choose_backend();
  if (tw__race_backend == BK_OFF) return tw__race_off_errno ? tw__race_off_errno : EPERM;
  for (int r = 0; r < TW_RACE_MAX_RANGES; r++) /* the same range again: already watched */
    if (tw__race_ranges[r].state == TW_RR_WATCHED && tw__race_ranges[r].addr == addr &&
        tw__race_ranges[r].len == len)
      return 0;
  if (n > tw__race_free_registers()) return ENOSPC;
  int range = new_range(addr, len, label, TW_RR_WATCHED);
  if (range < 0) return ENOSPC;
  int armed[TW_RACE_DEBUG_REGS], na = 0;
  for (int k = 0; k < n; k++) {
    int i = 0;
    while (tw_load_relaxed(&tw__race_pieces[i].armed)) i++;
    int rc = arm_piece(i, (uint16_t)range, pa[k], pl[k]);
    if (rc != 0) {
      for (int j = 0; j < na; j++) tw__race_disarm_piece(armed[j]);
      tw__race_ranges[range].state = TW_RR_FREE;
      tw__race_update_active();
      return rc;
    }
    armed[na++] = i;
  }
  tw__race_update_active();
  return 0;
}

void tw__race_watch_lock(void) { TW_REAL_FN(pthread_mutex_lock)(&watch_mu); }
void tw__race_watch_unlock(void) { TW_REAL_FN(pthread_mutex_unlock)(&watch_mu); }

int tw_race_watch(uintptr_t addr, size_t len, const char *label) {
  tw__race_watch_lock();
  int needed;
  int rc = tw__race_watch_locked(addr, len, label, &needed);
  if (rc == ENOSPC) {
    char what[160];
    tw__race_describe_request(what, sizeof(what), addr, len, label);
    tw__race_log_line("race watching: %s needs %d debug register%s, %d of the %d of each thread %s free: "
             "not watching it", what, needed, needed == 1 ? "" : "s", tw__race_free_registers(),
             TW_RACE_DEBUG_REGS, tw__race_free_registers() == 1 ? "is" : "are");
  }
  if (rc == 0) (void)tw__race_my_slot();
  tw__race_watch_unlock();
  return rc;
}

int tw_race_unwatch(uintptr_t addr) {
  tw__race_watch_lock();
  int rc = ENOENT;
  for (int r = 0; r < TW_RACE_MAX_RANGES; r++) {
    if (tw__race_ranges[r].state == TW_RR_FREE || tw__race_ranges[r].addr != addr) continue;
    for (int i = 0; i < TW_RACE_DEBUG_REGS; i++)
      if (tw_load_relaxed(&tw__race_pieces[i].armed) && tw__race_pieces[i].range == r)
        tw__race_disarm_piece(i);
    rc = tw__race_ranges[r].state == TW_RR_WATCHED ? 0 : ENOENT;
    tw__race_ranges[r].state = TW_RR_FREE;
    break;
  }
  tw__race_update_active();
  tw__race_watch_unlock();
  return rc;
}

void tw__race_watch_after_fork_child(void) {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&watch_mu, &fresh, sizeof(fresh));
}
