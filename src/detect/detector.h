/* The detector table: every detector is one row, and the reporter reaches each of them only
 * through it (detect/dispatch.c). A row says which events it consumes and what it does each tick,
 * in a forked child and at exit; detectors.c lists the rows.
 *
 * How to add a detector:
 *  1. Write detect/NAME.[ch]: its state, its reports (fill a struct tw_report, call
 *     tw_report_emit), and the four row functions it needs (NULL for the others).
 *  2. If it needs facts from the hooks, add an event type to runtime/event.h and send it from the
 *     hook side (tw_ring_push / tw_ring_push_wait on the thread's ring).
 *  3. Add its row to detect/detectors.c, and the file to src/CMakeLists.txt.
 * Every function runs with the analysis lock held, on the reporter thread, in an inline drain when
 * there is no reporter thread, or on the exit path. */
#ifndef TW_DETECT_DETECTOR_H
#define TW_DETECT_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/event.h"

#define TW_EV_BIT(type) (1u << (type))

struct tw_detector {
  const char *name;
  /* TW_EV_BIT of each event type this row consumes. */
  uint32_t events;
  /* The events are applied in their process-wide sequence order (event aux32) across threads,
   * after every ring of a drain has been read (lock events: a destroy must come after the edges
   * made before it), instead of as they are read. */
  bool ordered;
  void (*on_event)(const struct tw_event *ev, uint64_t thread);
  /* After each drain; `final` on the exit path's last tick (no waiting, no live analysis). */
  void (*tick)(uint64_t now_ns, bool final);
  /* In a forked child: forget what concerned the parent's other threads. `consistent`: the fork
   * went through our handlers, with the analysis lock held (state can be walked and freed); else it
   * happened at any moment and the state must be abandoned, not walked. */
  void (*after_fork)(bool consistent);
  /* Process exit, after the final tick: reports that only exit can make. */
  void (*at_exit)(void);
};

extern const struct tw_detector tw__detectors[];
extern const unsigned tw__ndetectors;

#endif
