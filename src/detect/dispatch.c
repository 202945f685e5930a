/* Event dispatch through the detector table (detector.h). */
#include "detect/dispatch.h"

#include <stdlib.h>

#include "base/stats.h"
#include "detect/detector.h"
#include "runtime/engine.h"
#include "runtime/registry.h"

/* Events of ordered rows from one drain, applied in sequence order once every ring is drained. */
struct pending {
  struct tw_event ev;
  uint64_t thread;
  const struct tw_detector *row;
};
static struct pending *batch;
static size_t nbatch, capbatch;

static void on_event(const struct tw_event *ev, uint64_t thread, void *ctx) {
  (void)ctx;
  tw_stat_add(events, 1);
  for (unsigned i = 0; i < tw__ndetectors; i++) {
    const struct tw_detector *d = &tw__detectors[i];
    if (!(d->events & TW_EV_BIT(ev->type)) || !d->on_event) continue;
    if (!d->ordered) {
      d->on_event(ev, thread);
      continue;
    }
    if (nbatch == capbatch) {
      size_t ncap = capbatch ? capbatch * 2 : 1024;
      struct pending *nb = realloc(batch, sizeof(*nb) * ncap);
      if (!nb) { /* no memory to order them: apply as they come */
        d->on_event(ev, thread);
        continue;
      }
      batch = nb;
      capbatch = ncap;
    }
    batch[nbatch++] = (struct pending){*ev, thread, d};
  }
}

/* Sequence numbers wrap: compare by signed difference (a batch spans far less than 2^31). */
static int by_seq(const void *a, const void *b) {
  int32_t d = (int32_t)(((const struct pending *)a)->ev.aux32 - ((const struct pending *)b)->ev.aux32);
  return d < 0 ? -1 : d > 0;
}

uint64_t tw_detect_drain(void) {
  nbatch = 0;
  uint64_t n = tw_registry_drain(on_event, NULL);
  qsort(batch, nbatch, sizeof(*batch), by_seq);
  for (size_t i = 0; i < nbatch; i++) batch[i].row->on_event(&batch[i].ev, batch[i].thread);
  return n;
}

void tw_detect_tick(uint64_t now_ns, bool final) {
  for (unsigned i = 0; i < tw__ndetectors; i++)
    if (tw__detectors[i].tick) tw__detectors[i].tick(now_ns, final);
}

void tw_detect_drain_inline(void) {
  tw_analysis_lock();
  if (!tw_engine_running()) tw_detect_drain();
  tw_analysis_unlock();
}

void tw_detect_after_fork_child(bool consistent) {
  if (!consistent) batch = NULL, nbatch = capbatch = 0; /* may have been mid-drain: abandoned */
  for (unsigned i = 0; i < tw__ndetectors; i++)
    if (tw__detectors[i].after_fork) tw__detectors[i].after_fork(consistent);
}

void tw_detect_at_exit(void) {
  for (unsigned i = 0; i < tw__ndetectors; i++)
    if (tw__detectors[i].at_exit) tw__detectors[i].at_exit();
}
