/* Race-suspect reports: THREADWATCH_WATCH's syntax, how a range is cut into hardware pieces, and
 * the report made from a pair of conflicting accesses (reporter side). Arming and the trap handler
 * are race/trap.h and its files; the analysis state is race/hb.c. */
#include "race/race.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/event.h"
#include "race/state.h"
#include "report/report.h"
#include "report/symbolize.h"
#include "base/tw.h"
#include "report/emit.h"
#include "report/build.h"

struct tw_race_range tw__race_ranges[TW_RACE_MAX_RANGES];
struct tw_race_piece tw__race_pieces[TW_RACE_DEBUG_REGS];
_Atomic uint64_t tw__race_decoder_disagreed;

static const char spec_form[] =
    "a comma-separated list of global variable names (from the executable's or a library's "
    "symbol table) and 0xADDR:LEN address ranges (LEN in bytes, from 1)";

static int parse_item(const char *s, size_t len, struct tw_race_item *it) {
  memset(it, 0, sizeof(*it));
  if (len == 0) return -EINVAL;
  if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    size_t i = 2;
    uint64_t a = 0;
    for (; i < len && isxdigit((unsigned char)s[i]); i++) {
      if (a >> 60) return -EINVAL;
      int c = tolower((unsigned char)s[i]);
      a = a * 16 + (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    if (i == 2 || i >= len || s[i] != ':') return -EINVAL;
    i++;
    if (i >= len) return -EINVAL;
    uint64_t l = 0;
    for (; i < len; i++) {
      if (!isdigit((unsigned char)s[i])) return -EINVAL;
      l = l * 10 + (uint64_t)(s[i] - '0');
      if (l > (1u << 20)) return -EINVAL;
    }
    if (a == 0 || l == 0 || a + l < a) return -EINVAL;
    it->addr = (uintptr_t)a;
    it->len = (size_t)l;
    return 0;
  }
  if (len >= sizeof(it->sym)) return -EINVAL;
  if (!(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == '.' || s[0] == '$')) return -EINVAL;
  for (size_t i = 0; i < len; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '$' ||
          s[i] == '@'))
      return -EINVAL;
  memcpy(it->sym, s, len);
  it->sym[len] = '\0';
  return 0;
}

int tw__race_parse_spec(const char *spec, struct tw_race_item *items, int max, char *err,
                        size_t n) {
  int count = 0;
  const char *p = spec;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    struct tw_race_item it;
    if (parse_item(p, len, &it) != 0) {
      snprintf(err, n, "threadwatch: THREADWATCH_WATCH='%s' is not valid: '%.*s' is not a variable "
               "name or 0xADDR:LEN; expected %s", spec, (int)(len < 64 ? len : 64), p, spec_form);
      return -EINVAL;
    }
    if (count >= max) {
      snprintf(err, n, "threadwatch: THREADWATCH_WATCH='%s' is not valid: more than %d items; "
               "expected %s", spec, max, spec_form);
      return -EINVAL;
    }
    items[count++] = it;
    if (!end) break;
    p = end + 1;
    if (!*p) { /* a trailing comma */
      snprintf(err, n, "threadwatch: THREADWATCH_WATCH='%s' is not valid: an empty item; expected "
               "%s", spec, spec_form);
      return -EINVAL;
    }
  }
  return count;
}

int tw__race_pieces_of(uintptr_t addr, size_t len, uintptr_t *pa, uint32_t *pl, int max) {
  int count = 0;
  uintptr_t a = addr, end = addr + len;
  while (a < end) {
    uint32_t sz = 8;
    while (sz > 1 && ((a & (sz - 1)) != 0 || a + sz > end)) sz /= 2;
    if (count < max) {
      pa[count] = a;
      pl[count] = sz;
    }
    count++;
    a += sz;
  }
  return count;
}

void tw__race_describe(uint32_t range, uintptr_t addr, uint32_t len, char *out, size_t n) {
  const struct tw_race_range *r = range < TW_RACE_MAX_RANGES ? &tw__race_ranges[range] : NULL;
  char name[TW_RACE_LABEL + 96] = "";
  if (r && r->label[0]) {
    if (addr > r->addr)
      snprintf(name, sizeof(name), "%s+%lu", r->label, (unsigned long)(addr - r->addr));
    else snprintf(name, sizeof(name), "%s", r->label);
  } else {
    tw_symbolize_data(addr, name, sizeof(name)); /* an address range: name what lies there */
  }
  const char *sep = name[0] ? " " : "";
  if (r && r->len > len)
    snprintf(out, n, "%s%s(%#lx, %u of %lu bytes)", name, sep, (unsigned long)addr, len,
             (unsigned long)r->len);
  else
    snprintf(out, n, "%s%s(%#lx, %u byte%s)", name, sep, (unsigned long)addr, len,
             len == 1 ? "" : "s");
}

/* One listed thread of the report: its record (or what is left of it) and its access. */
static void fill_thread(struct tw_report_thread *rt, const struct tw_race_access *a, uint64_t now) {
  struct tw_thread_snap s;
  if (a->thread && tw_registry_snap_by_id(a->thread, &s)) {
    tw_report_thread_from_snap(rt, &s, now);
  } else {
    memset(rt, 0, sizeof(*rt));
    rt->id = a->thread;
    rt->tid = a->tid;
    rt->state = TW_TS_EXITED;
  }
  if (rt->state == TW_TS_BLOCKED) rt->state = TW_TS_RUNNING; /* its wait now is not the topic */
  rt->access = a->write ? "write" : "read";
  rt->stack = a->stack;
  rt->nlocks_held = a->nlocks;
  for (unsigned i = 0; i < a->nlocks && i < TW_REPORT_MAX_HELD; i++) {
    rt->locks_held[i].addr = a->locks[i];
    rt->locks_held[i].name[0] = '\0';
  }
}

void tw_race_on_event(const struct tw_event *ev, uint64_t thread) {
  (void)thread;
  struct tw_race_pair *p = tw_race_pair_at((uint32_t)ev->a, (uint32_t)ev->b);
  if (!p) return;
  static struct tw_report r; /* reporter-owned (analysis lock held), too big for its stack */
  memset(&r, 0, sizeof(r));
  r.kind = "race-suspect";
  r.what = p->prior.write && p->cur.write ? "write-write" : "read-write";
  r.count = 2;
  tw__race_describe(p->range, p->addr, p->len, r.object, sizeof(r.object));
  uint64_t now = tw__now_ns();
  fill_thread(&r.threads[0], &p->prior, now);
  fill_thread(&r.threads[1], &p->cur, now);
  r.nthreads = 2;
  char w1[160], w2[160];
  tw_report_where(p->prior.stack, w1, sizeof(w1));
  tw_report_where(p->cur.stack, w2, sizeof(w2));
  snprintf(r.message, sizeof(r.message),
           "T%llu %s %s in %s, then T%llu %s it in %s, with no lock in common and no "
           "happens-before between the two",
           (unsigned long long)p->prior.thread, p->prior.write ? "wrote" : "read", r.object, w1,
           (unsigned long long)p->cur.thread, p->cur.write ? "wrote" : "read", w2);
  static uint64_t disagreed_said;
  uint64_t disagreed = tw_load_relaxed(&tw__race_decoder_disagreed);
  if (disagreed > disagreed_said) { /* page emulation only: the decoder is checked by the fault */
    char line[200];
    snprintf(line, sizeof(line), "==%ld== threadwatch: race watching: the instruction decoder told "
             "read from write differently than the page fault for %llu accesses\n",
             (long)getpid(), (unsigned long long)disagreed);
    tw_report_log_line(line);
    disagreed_said = disagreed;
  }
  r.dropped = tw_registry_dropped();
  tw_race_pair_free(p);
  tw_report_emit(&r);
}
