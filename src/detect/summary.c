/* The summary line: live threads by state and wait class, creations, exits, events, drops. */
#include "detect/summary.h"

#include <stdio.h>
#include <unistd.h>

#include "base/options.h"
#include "base/stats.h"
#include "base/tw.h"
#include "report/report.h"
#include "runtime/registry.h"
#include "runtime/stackdepot.h"
#include "report/emit.h"

static uint64_t last_ns;

void tw_summary_start(uint64_t now_ns) { last_ns = now_ns; }

static void summary_line(uint64_t now) {
  struct tw_registry_counts c;
  tw_registry_counts(&c);
  struct tw_thread_snap snaps[256];
  size_t got = tw_registry_snapshot(snaps, TW_ARRAY_LEN(snaps)); /* a sample past 256 threads */
  unsigned blocked = 0, sleeping = 0, by_class[TW_WC_COUNT] = {0};
  for (size_t i = 0; i < got && i < TW_ARRAY_LEN(snaps); i++) {
    if (snaps[i].life == TW_LIFE_EXITED || snaps[i].wait.call == TW_CALL_NONE) continue;
    if (tw_call_sleeps(snaps[i].wait.call)) { /* sleeping, not blocked */
      sleeping++;
      continue;
    }
    blocked++;
    by_class[tw_call_class(snaps[i].wait.call)]++;
  }
  char classes[256] = "";
  size_t off = 0;
  /* The first five classes always (the line's long-standing layout), the later ones (semaphore,
   * barrier, ...) when some thread waits in one. */
  for (int k = TW_WC_NONE + 1; k < TW_WC_COUNT && off < sizeof(classes); k++)
    if ((k <= TW_WC_FD || by_class[k]) && k != TW_WC_SLEEP)
      off += (size_t)snprintf(classes + off, sizeof(classes) - off, "%s%u %s",
                              k == TW_WC_NONE + 1 ? "" : ", ", by_class[k],
                              tw_wait_class_name((enum tw_wait_class)k));
  char line[512], asleep[32] = "";
  if (sleeping) snprintf(asleep, sizeof(asleep), "%u sleeping, ", sleeping);
  snprintf(line, sizeof(line),
           "==%ld== threadwatch: summary: %llu live threads (%llu running, %s%u blocked: %s), %llu "
           "created, %llu exited; %llu events, %llu dropped, %u stacks, %llu reports\n",
           (long)getpid(), (unsigned long long)c.live,
           (unsigned long long)(c.live - blocked - sleeping), asleep, blocked, classes, (unsigned long long)c.created, (unsigned long long)c.exited,
           (unsigned long long)tw_stat_get(events), (unsigned long long)tw_registry_dropped(),
           tw_depot_count(), (unsigned long long)tw_stat_get(reports));
  tw_report_log_line(line);
  last_ns = now;
}

void tw_summary_tick(uint64_t now_ns, bool final) {
  if (!final && tw__opt.interval_ns && now_ns - last_ns >= tw__opt.interval_ns) summary_line(now_ns);
}
