/* `threadwatch attach --pprof FILE` and `--folded`: the snapshot as the library's thread profile
 * (report/profiles.c), built into the same struct tw_profile and written by the same writers
 * (report/pprof.c, report/profile.c's folded stacks), so that `go tool pprof` shows an attached
 * process as it shows `threadwatch dump --pprof` of a preloaded one: one sample per thread, value
 * 1 `threads`, its stack as attach prints it, labels state, wait, object, name, thread and tid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "base/out.h"
#include "report/pprof.h"
#include "report/profile.h"
#include "report/symbolize.h"
#include "runtime/stackdepot.h"

int at_profile(const struct at_snapshot *s, struct tw_profile *p) {
  static const struct tw_profile_type types[] = {{"threads", "count"}};
  tw_profile_init(p, "threads", types, 1);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  p->time_ns = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
  size_t nblocked = 0;
  for (size_t i = 0; i < s->n; i++) nblocked += s->t[i].wait != AT_W_NONE;
  const char *exe = strrchr(s->exe, '/');
  char comment[256];
  snprintf(comment, sizeof(comment),
           "threadwatch attach of pid %d (%s): %zu threads (%zu running, %zu blocked), stopped "
           "for %.1fms; %zu deadlock%s found",
           s->pid, exe ? exe + 1 : s->exe[0] ? s->exe : "?", s->n, s->n - nblocked, nblocked,
           (double)s->stopped_ns / 1e6, s->nreports, s->nreports == 1 ? "" : "s");
  p->comment = tw_profile_intern(p, comment);
  for (size_t i = 0; i < s->n; i++) {
    const struct at_thread *t = &s->t[i];
    /* The frames attach prints (a blocked thread's from the program's call on), innermost first
     * as the depot keeps them; the depot keeps the innermost TW_STACK_MAX_FRAMES. */
    int first = at_first_shown(t);
    struct tw_profile_sample smp = {.values = {1}};
    if (t->npcs > first) smp.stack = tw_depot_put(t->pcs + first, t->npcs - first);
    if (!smp.stack) smp.leaf = tw_profile_intern(p, "[stack unavailable]");
    struct tw_profile_sample *x = tw_profile_add(p, &smp);
    if (!x) break;
    /* The library's states: a sleep is `sleeping`, every other wait `blocked`. */
    const char *state = t->wait == AT_W_NONE    ? "running"
                        : t->wait == AT_W_SLEEP ? "sleeping"
                                                : "blocked";
    tw_profile_label_str(p, x, "state", state);
    if (t->wait != AT_W_NONE) {
      tw_profile_label_str(p, x, "wait", t->call ? t->call : "?");
      tw_profile_label_str(p, x, "object", t->object);
    }
    if (t->name[0]) tw_profile_label_str(p, x, "name", t->name);
    tw_profile_label_num(x, "thread", (int64_t)t->id, NULL);
    tw_profile_label_num(x, "tid", t->tid, NULL);
  }
  return p->oom ? -ENOMEM : 0;
}

int at_profile_pprof(const struct at_snapshot *s, const struct tw_profile *p, int fd) {
  struct tw_pprof_mapping *maps = NULL;
  size_t nmaps = 0;
  /* Without them the locations have no mapping (no build-id): still readable. */
  tw_pprof_proc_maps(s->live ? s->live : s->pid, &maps, &nmaps);
  struct tw_pprof_env env = {tw_symbolize, maps, nmaps};
  uint8_t *raw = NULL, *gz = NULL;
  size_t rawlen = 0, gzlen = 0;
  int rc = tw_pprof_encode(p, &env, &raw, &rawlen);
  if (rc == 0) rc = tw_pprof_gzip(raw, rawlen, &gz, &gzlen);
  if (rc == 0) rc = tw__write_all(fd, (const char *)gz, gzlen);
  free(raw);
  free(gz);
  free(maps);
  return rc;
}

int at_profile_folded(const struct tw_profile *p, int fd) {
  struct tw_out *o = malloc(sizeof(*o));
  if (!o) return -ENOMEM;
  tw_out_init(o, fd);
  tw_profile_folded(o, p, 0, tw_symbolize);
  int rc = tw_out_flush(o);
  free(o);
  return rc;
}
