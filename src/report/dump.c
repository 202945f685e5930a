/* The thread dump: every live application thread, grouped by identical stacks or one by one, as
 * text or JSON (the formats are described in docs/dump.md). Analysis lock held. */
#include "report/dump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/out.h"
#include "base/tw.h"
#include "report/build.h"
#include "report/format.h"
#include "report/writer.h"

/* Running threads whose stacks are read (the system call each is stopped in, and where): each read
 * costs a few hundred system calls, so a dump of thousands stays well under a second. Past the
 * bound, running threads group by creation stack alone. */
#define DUMP_LOCATE_MAX 256

/* Thread ids listed on a text group's "threads:" line; the rest are counted ("and 4800 more"): a
 * 5000-thread pool should be one readable group, and `dump --all` lists every thread anyway. The
 * JSON lists every id. */
#define DUMP_TEXT_IDS 64

/* The live threads, sorted by group key and then id: a group is then a run of equal keys. */
struct dump {
  struct tw_report_thread *threads;
  size_t n;
  size_t running, blocked, sleeping, exited_unjoined;
};

/* Threads with the same state, wait call, current stack and creation stack are one group. */
static int key_cmp(const struct tw_report_thread *x, const struct tw_report_thread *y) {
  if (x->state != y->state) return x->state < y->state ? -1 : 1;
  if (x->wait.call != y->wait.call) return x->wait.call < y->wait.call ? -1 : 1;
  if (x->stack != y->stack) return x->stack < y->stack ? -1 : 1;
  if (x->created_at != y->created_at) return x->created_at < y->created_at ? -1 : 1;
  return 0;
}

static int by_key_then_id(const void *a, const void *b) {
  const struct tw_report_thread *x = a, *y = b;
  int c = key_cmp(x, y);
  if (c) return c;
  return x->id < y->id ? -1 : x->id > y->id;
}

static int by_id(const void *a, const void *b) {
  const struct tw_report_thread *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}


/* Fills d with the live threads, described as reports describe them. Returns 0 or -ENOMEM. */
static int dump_collect(struct dump *d) {
  memset(d, 0, sizeof(*d));
  size_t n = 0;
  struct tw_thread_snap *snaps = tw_registry_snapshot_all(&n);
  if (!snaps) return -ENOMEM;
  d->threads = malloc(sizeof(*d->threads) * (n ? n : 1));
  if (!d->threads) {
    free(snaps);
    return -ENOMEM;
  }
  uint64_t now = tw__now_ns();
  for (size_t i = 0; i < n; i++) {
    if (snaps[i].life == TW_LIFE_EXITED) {
      /* Exited but still waiting to be joined: not live, but worth a count (a leak in progress). */
      if (!snaps[i].adopted && snaps[i].join == TW_JOINABLE && !snaps[i].joining)
        d->exited_unjoined++;
      continue;
    }
    struct tw_report_thread *rt = &d->threads[d->n++];
    tw_report_thread_from_snap(rt, &snaps[i], now);
    if (rt->state == TW_TS_BLOCKED) d->blocked++;
    else if (rt->state == TW_TS_SLEEPING) d->sleeping++;
    else if (d->running++ < DUMP_LOCATE_MAX) tw_report_thread_locate(rt);
  }
  free(snaps);
  return 0;
}

/* One group: threads[first .. first+count) of the key-sorted array. */
struct group {
  size_t first, count;
};

static int by_count_desc(const void *a, const void *b) {
  const struct group *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first; /* ties: stable, by key order */
}

/* Sorts d by key and returns its groups, largest first (*ng of them). NULL if out of memory. */
static struct group *dump_group(struct dump *d, size_t *ng) {
  qsort(d->threads, d->n, sizeof(*d->threads), by_key_then_id);
  struct group *g = malloc(sizeof(*g) * (d->n ? d->n : 1));
  if (!g) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < d->n; i++) {
    if (k > 0 && key_cmp(&d->threads[g[k - 1].first], &d->threads[i]) == 0) g[k - 1].count++;
    else g[k++] = (struct group){i, 1};
  }
  qsort(g, k, sizeof(*g), by_count_desc);
  *ng = k;
  return g;
}

/* What a group's threads have in common beyond the key: one object, one note, one parent. */
struct group_facts {
  bool same_object, same_note, same_parent;
  uint64_t min_ns, max_ns;
};

static struct group_facts group_facts(const struct dump *d, const struct group *g) {
  const struct tw_report_thread *t0 = &d->threads[g->first];
  struct group_facts f = {true, true, true, t0->wait_ns, t0->wait_ns};
  for (size_t i = g->first + 1; i < g->first + g->count; i++) {
    const struct tw_report_thread *t = &d->threads[i];
    f.same_object &= strcmp(t->object, t0->object) == 0;
    f.same_note &= strcmp(t->note, t0->note) == 0;
    f.same_parent &= t->parent == t0->parent;
    if (t->wait_ns < f.min_ns) f.min_ns = t->wait_ns;
    if (t->wait_ns > f.max_ns) f.max_ns = t->wait_ns;
  }
  return f;
}

/* --- text --- */

static void text_header(struct tw_out *o, const struct dump *d) {
  tw_out_fmt(o, "threadwatch dump of pid %ld: %zu thread%s (%zu running, ", (long)getpid(), d->n,
             d->n == 1 ? "" : "s", d->running);
  if (d->sleeping) tw_out_fmt(o, "%zu sleeping, ", d->sleeping);
  tw_out_fmt(o, "%zu blocked)\n", d->blocked);
  if (d->exited_unjoined)
    tw_out_fmt(o, "(and %zu exited thread%s not joined yet, not listed)\n", d->exited_unjoined,
               d->exited_unjoined == 1 ? "" : "s");
}

/* "blocked in read() on pipe fd 3 for 2.00s; no thread has written to it:" or "running ...". */
static void text_state(struct tw_out *o, const struct tw_report_thread *t,
                       const struct group_facts *f) {
  if (!tw_tstate_waits(t->state)) {
    /* Where it is, when stopped in a system call we do not watch (tw_report_thread_locate). */
    bool note = f->same_note && t->note[0];
    tw_out_fmt(o, "%s (not in a watched blocking call)%s%s%s\n", tw_state_name(t->state),
               note ? ": " : "", note ? t->note : "", t->stack ? ":" : "");
    return;
  }
  char lo[32], hi[32];
  tw_format_duration(lo, sizeof(lo), f->min_ns);
  tw_format_duration(hi, sizeof(hi), f->max_ns);
  tw_out_fmt(o, "%s in %s() on %s for %s", tw_state_name(t->state), tw_call_name(t->wait.call),
             f->same_object ? t->object : "different objects", lo);
  if (strcmp(lo, hi) != 0) tw_out_fmt(o, " to %s", hi);
  if (f->same_note && t->note[0]) tw_out_fmt(o, "; %s", t->note);
  tw_out_str(o, ":\n");
}

static void text_created(struct tw_out *o, const struct tw_report_thread *t, bool same_parent) {
  if (!t->created_at) return; /* the main thread and other adopted threads */
  if (same_parent) tw_out_fmt(o, "  created by T%llu at:\n", (unsigned long long)t->parent);
  else tw_out_str(o, "  created at:\n");
  tw_report_text_stack(o, t->created_at, "    ");
}

static void text_group(struct tw_out *o, const struct dump *d, const struct group *g) {
  const struct tw_report_thread *t0 = &d->threads[g->first];
  struct group_facts f = group_facts(d, g);
  tw_out_fmt(o, "\n%zu thread%s: ", g->count, g->count == 1 ? "" : "s");
  text_state(o, t0, &f);
  tw_out_str(o, "  threads: ");
  size_t listed = g->count < DUMP_TEXT_IDS ? g->count : DUMP_TEXT_IDS;
  for (size_t i = 0; i < listed; i++) {
    if (i) tw_out_str(o, ", ");
    tw_format_who(o, &d->threads[g->first + i]);
  }
  if (g->count > listed) tw_out_fmt(o, " and %zu more (dump --all lists them)", g->count - listed);
  tw_out_str(o, "\n");
  if (t0->stack) tw_report_text_stack(o, t0->stack, "    ");
  text_created(o, t0, f.same_parent);
}

static void text_thread(struct tw_out *o, const struct tw_report_thread *t) {
  struct group_facts f = {true, true, true, t->wait_ns, t->wait_ns};
  tw_out_str(o, "\n");
  tw_format_who(o, t);
  tw_out_str(o, " ");
  text_state(o, t, &f);
  if (t->stack) tw_report_text_stack(o, t->stack, "    ");
  text_created(o, t, true);
}

/* --- JSON --- */

/* The "wait" object of a thread or of a group (for a group: `for_ms` is the longest wait and
 * `min_for_ms` the shortest; `object`, `address`/`fd` and `note` only when they are shared). */
static void json_wait(struct tw_out *o, const struct tw_report_thread *t,
                      const struct group_facts *f, bool group) {
  tw_out_fmt(o, ",\"wait\":{\"call\":\"%s\",\"object\":", tw_call_name(t->wait.call));
  tw_out_json_str(o, f->same_object ? t->object : "different objects");
  if (f->same_note && t->note[0]) {
    tw_out_str(o, ",\"note\":");
    tw_out_json_str(o, t->note);
  }
  if (f->same_object) {
    if (tw_wait_json_fd(t->wait.call)) tw_out_fmt(o, ",\"fd\":%d", t->wait.fd);
    else if (tw_wait_json_address(t->wait.call))
      tw_out_fmt(o, ",\"address\":\"0x%lx\"", (unsigned long)t->wait.obj);
  }
  tw_out_fmt(o, ",\"for_ms\":%llu", (unsigned long long)(f->max_ns / 1000000));
  if (group) tw_out_fmt(o, ",\"min_for_ms\":%llu", (unsigned long long)(f->min_ns / 1000000));
  tw_out_str(o, "}");
}

/* A running thread's "note": the system call it is stopped in and where, as reports give it. */
static void json_note(struct tw_out *o, const struct tw_report_thread *t,
                      const struct group_facts *f) {
  if (!f->same_note || !t->note[0]) return;
  tw_out_str(o, ",\"note\":");
  tw_out_json_str(o, t->note);
}

/* A thread object with the field names of a report's thread (docs/report-format.md). */
static void json_thread(struct tw_out *o, const struct tw_report_thread *t) {
  struct group_facts f = {true, true, true, t->wait_ns, t->wait_ns};
  tw_out_fmt(o, "{\"id\":%llu,\"tid\":%d,\"name\":", (unsigned long long)t->id, t->tid);
  tw_out_json_str(o, t->name);
  tw_out_fmt(o, ",\"state\":\"%s\"", tw_state_name(t->state));
  if (tw_tstate_waits(t->state)) json_wait(o, t, &f, false);
  else json_note(o, t, &f);
  tw_out_fmt(o, ",\"parent\":%llu,\"stack\":", (unsigned long long)t->parent);
  tw_report_json_stack(o, t->stack);
  tw_out_str(o, ",\"created_at\":");
  tw_report_json_stack(o, t->created_at);
  tw_out_str(o, "}");
}

static void json_group(struct tw_out *o, const struct dump *d, const struct group *g) {
  const struct tw_report_thread *t0 = &d->threads[g->first];
  struct group_facts f = group_facts(d, g);
  tw_out_fmt(o, "{\"count\":%zu,\"state\":\"%s\"", g->count, tw_state_name(t0->state));
  if (tw_tstate_waits(t0->state)) json_wait(o, t0, &f, true);
  else json_note(o, t0, &f);
  tw_out_str(o, ",\"ids\":[");
  for (size_t i = 0; i < g->count; i++)
    tw_out_fmt(o, "%s%llu", i ? "," : "", (unsigned long long)d->threads[g->first + i].id);
  tw_out_str(o, "],\"stack\":");
  tw_report_json_stack(o, t0->stack);
  tw_out_str(o, ",\"created_at\":");
  tw_report_json_stack(o, t0->created_at);
  tw_out_str(o, "}");
}

static void json_counts(struct tw_out *o, const struct dump *d) {
  tw_out_fmt(o, ",\"running\":%zu,\"blocked\":%zu,\"sleeping\":%zu,\"exited_unjoined\":%zu",
             d->running, d->blocked, d->sleeping, d->exited_unjoined);
}

/* --- entry point --- */

static void write_all_threads(struct tw_out *o, struct dump *d, bool json) {
  qsort(d->threads, d->n, sizeof(*d->threads), by_id);
  if (json) {
    tw_out_fmt(o, "{\"pid\":%ld", (long)getpid());
    json_counts(o, d);
    tw_out_str(o, ",\"threads\":[");
    for (size_t i = 0; i < d->n; i++) {
      if (i) tw_out_str(o, ",");
      json_thread(o, &d->threads[i]);
    }
    tw_out_str(o, "]}\n");
    return;
  }
  text_header(o, d);
  for (size_t i = 0; i < d->n; i++) text_thread(o, &d->threads[i]);
}

static void write_groups(struct tw_out *o, struct dump *d, const struct group *g, size_t ng,
                         bool json) {
  if (json) {
    tw_out_fmt(o, "{\"pid\":%ld,\"threads\":%zu", (long)getpid(), d->n);
    json_counts(o, d);
    tw_out_str(o, ",\"groups\":[");
    for (size_t i = 0; i < ng; i++) {
      if (i) tw_out_str(o, ",");
      json_group(o, d, &g[i]);
    }
    tw_out_str(o, "]}\n");
    return;
  }
  text_header(o, d);
  for (size_t i = 0; i < ng; i++) text_group(o, d, &g[i]);
}

void tw_dump_write(struct tw_out *o, bool all, bool json) {
  struct dump d;
  struct group *groups = NULL;
  size_t ng = 0;
  if (dump_collect(&d) != 0 || (!all && !(groups = dump_group(&d, &ng)))) {
    tw_out_str(o, "threadwatch: out of memory making the dump\n");
    free(d.threads);
    return;
  }
  if (all) write_all_threads(o, &d, json);
  else write_groups(o, &d, groups, ng, json);
  free(groups);
  free(d.threads);
}
