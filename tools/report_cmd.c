/* `threadwatch report` and `threadwatch suppress`: saved JSON Lines (THREADWATCH_JSON) rendered as
 * text reports, one SARIF 2.1.0 document (report/view.c, the same renderer as the library's SARIF
 * writer), JUnit XML, or a suppressions file. Heavy formatting belongs here, not in the process
 * under test. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/options.h"
#include "cli.h"
#include "jsonv.h"
#include "report/rules.h"
#include "report/view.h"

/* --- reading ------------------------------------------------------------------------------------ */

struct reports {
  struct jv *r;
  size_t n, cap;
};

/* Reads every JSON line of `path` ("-": stdin) into rs. Returns 0, or 1 after saying why not. A
 * line that does not parse is skipped with a warning (a process killed in the middle of a line). */
static int read_file(const char *cmd, const char *path, struct reports *rs) {
  FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
  if (!f) return cli_fail("%s: cannot read %s: %s", cmd, path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  for (long lineno = 1; (len = getline(&line, &cap, f)) > 0; lineno++) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (len == 0) continue;
    struct jv v;
    char err[128];
    if (jv_parse(line, &v, err, sizeof(err)) != 0 || v.type != JV_OBJ || !jv_str(&v, "kind", NULL)) {
      fprintf(stderr, "threadwatch %s: warning: %s:%ld: skipped, not a threadwatch report (%s)\n", cmd, path,
              lineno, err[0] ? err : "no \"kind\"");
      jv_free(&v); /* a value that is not a report; after a failed parse it is empty already */
      continue;
    }
    if (rs->n == rs->cap) {
      size_t ncap = rs->cap ? rs->cap * 2 : 64;
      struct jv *grown = realloc(rs->r, ncap * sizeof(*grown));
      if (!grown) return cli_fail("%s: out of memory", cmd);
      rs->r = grown;
      rs->cap = ncap;
    }
    rs->r[rs->n++] = v;
  }
  bool bad = ferror(f);
  free(line);
  if (f != stdin) fclose(f);
  if (bad) return cli_fail("%s: reading %s: %s", cmd, path, strerror(errno));
  return 0;
}

static void free_reports(struct reports *rs) {
  for (size_t i = 0; i < rs->n; i++) jv_free(&rs->r[i]);
  free(rs->r);
}

/* --- small helpers ------------------------------------------------------------------------------ */

static long num(const struct jv *v, const char *key) { return (long)jv_num(v, key, 0); }

static const char *base(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path ? path : "";
}

static void duration(char *buf, size_t n, double ms) {
  if (ms >= 60000)
    snprintf(buf, n, "%.1fmin", ms / 60000);
  else if (ms >= 1000)
    snprintf(buf, n, "%.2fs", ms / 1000);
  else
    snprintf(buf, n, "%.0fms", ms);
}

/* Whether a fail-on list (THREADWATCH_FAIL_ON's words) names a report. */
static bool fails(const char *list, const struct jv *r) {
  const char *kind = jv_str(r, "kind", ""), *what = jv_str(r, "what", "");
  const char *sev = jv_str(r, "severity", "error");
  char copy[TW_OPT_STR_MAX], *save = NULL;
  snprintf(copy, sizeof(copy), "%s", list);
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (!strcmp(w, "all") || !strcmp(w, sev)) return true;
    char *slash = strchr(w, '/');
    if (slash) *slash++ = '\0';
    if (!strcmp(w, kind) && (!slash || !strcmp(slash, what))) return true;
  }
  return false;
}

/* The innermost frame of a stack that is the program's own (with a file when one has it), or
 * NULL. */
static const struct jv *program_frame(const struct jv *stack) {
  const struct jv *any = NULL;
  for (size_t i = 0; stack && i < stack->n; i++) {
    const struct jv *f = &stack->items[i];
    const char *file = jv_str(f, "file", NULL);
    if (!tw_frame_is_program(jv_str(f, "module", NULL), file, jv_str(f, "function", NULL))) continue;
    if (file && *file) return f;
    if (!any) any = f;
  }
  return any;
}

/* The frame a report is about: the program's innermost frame of the first listed thread's stack,
 * else its creation stack, else of any stack. */
static const struct jv *site_frame(const struct jv *r) {
  const struct jv *threads = jv_arr(r, "threads");
  const struct jv *f = NULL;
  for (size_t i = 0; threads && i < threads->n && !f; i++) {
    f = program_frame(jv_arr(&threads->items[i], "stack"));
    if (!f) f = program_frame(jv_arr(&threads->items[i], "created_at"));
  }
  const struct jv *edges = jv_arr(r, "edges");
  for (size_t i = 0; edges && i < edges->n && !f; i++)
    f = program_frame(jv_arr(&edges->items[i], "acquired_at"));
  const struct jv *groups = jv_arr(r, "groups");
  for (size_t i = 0; groups && i < groups->n && !f; i++)
    f = program_frame(jv_arr(&groups->items[i], "created_at"));
  return f;
}

/* --- text --------------------------------------------------------------------------------------- */

static void text_stack(FILE *o, const struct jv *stack, const char *indent) {
  if (!stack || stack->n == 0) {
    fprintf(o, "%s(stack unavailable)\n", indent);
    return;
  }
  for (size_t i = 0; i < stack->n; i++) {
    const struct jv *f = &stack->items[i];
    fprintf(o, "%s#%zu %s in %s", indent, i, jv_str(f, "pc", "0x0"), jv_str(f, "function", "??"));
    if (jv_str(f, "file", NULL)) fprintf(o, " %s:%ld", jv_str(f, "file", ""), num(f, "line"));
    fprintf(o, " (%s)%s\n", jv_str(f, "module", "??"),
            jv_get(f, "inlined") && jv_get(f, "inlined")->b ? " [inlined]" : "");
  }
}

static bool same_stack(const struct jv *a, const struct jv *b) {
  size_t na = a ? a->n : 0, nb = b ? b->n : 0;
  if (na != nb) return false;
  for (size_t i = 0; i < na; i++)
    if (strcmp(jv_str(&a->items[i], "pc", ""), jv_str(&b->items[i], "pc", ""))) return false;
  return true;
}

static void text_who(FILE *o, const struct jv *t) {
  fprintf(o, "T%ld", num(t, "id"));
  const char *name = jv_str(t, "name", "");
  if (*name) {
    fputs(" \"", o);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
      fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, o);
    fputs("\"", o);
  }
  if (num(t, "tid") > 0) fprintf(o, " (tid %ld)", num(t, "tid"));
}

static void text_thread(FILE *o, const struct jv *t) {
  fputs("  ", o);
  text_who(o, t);
  const char *state = jv_str(t, "state", "running"), *access = jv_str(t, "access", NULL);
  const struct jv *wait = jv_get(t, "wait");
  if (access) {
    fprintf(o, " %s access:\n", access);
    text_stack(o, jv_arr(t, "stack"), "    ");
  } else if (!strcmp(state, "blocked") && wait) {
    char d[32], held[48] = "";
    duration(d, sizeof(d), jv_num(wait, "for_ms", 0));
    const struct jv *hb = jv_arr(wait, "held_by");
    if (hb && hb->n) snprintf(held, sizeof(held), " (held by T%ld)", (long)hb->items[0].num);
    const char *note = jv_str(wait, "note", "");
    fprintf(o, " blocked in %s() on %s%s for %s%s%s:\n", jv_str(wait, "call", "?"),
            jv_str(wait, "object", "?"), held, d, *note ? "; " : "", note);
    text_stack(o, jv_arr(t, "stack"), "    ");
  } else {
    const char *note = jv_str(t, "note", "");
    const struct jv *st = jv_arr(t, "stack");
    fprintf(o, " %s%s%s%s%s\n", state, !strcmp(state, "running") ? " (not in a watched blocking call)" : "",
            *note ? ": " : "", note, st && st->n ? ":" : "");
    if (st && st->n) text_stack(o, st, "    ");
  }
  const struct jv *held = jv_arr(t, "locks_held");
  if (held && held->n) {
    fputs("  holding ", o);
    for (size_t i = 0; i < held->n; i++) {
      fprintf(o, "%s%s", i ? ", " : "", jv_str(&held->items[i], "address", "?"));
      const char *nm = jv_str(&held->items[i], "name", "");
      if (*nm) fprintf(o, " \"%s\"", nm);
    }
    fputs("\n", o);
  }
  const struct jv *created = jv_arr(t, "created_at");
  if (created && created->n) {
    fprintf(o, "  created by T%ld at:\n", num(t, "parent"));
    text_stack(o, created, "    ");
  }
}

/* One report as the library's text writer lays it out (report/text.c). */
static void render_text(FILE *o, const struct jv *r) {
  fprintf(o, "==%ld== threadwatch: %s: %s\n", num(r, "pid"), jv_str(r, "kind", "?"),
          jv_str(r, "message", ""));
  const struct jv *locks = jv_arr(r, "locks"), *edges = jv_arr(r, "edges");
  if (locks && locks->n) {
    fputs("  cycle:", o);
    for (size_t i = 0; i < locks->n; i++) fprintf(o, " %s =>", jv_str(&locks->items[i], "id", "?"));
    fprintf(o, " %s\n", num(r, "cycle_length") > (long)locks->n ? "... => M1 (cut)" : "M1");
    for (size_t i = 0; i < locks->n; i++) {
      const struct jv *l = &locks->items[i];
      fprintf(o, "  %s = %s %s", jv_str(l, "id", "?"), jv_str(l, "kind", "mutex"), jv_str(l, "address", "?"));
      if (jv_str(l, "symbol", NULL)) fprintf(o, " (%s)", jv_str(l, "symbol", ""));
      if (*jv_str(l, "name", "")) fprintf(o, " \"%s\"", jv_str(l, "name", ""));
      fputs(", first seen taken at:\n", o);
      text_stack(o, jv_arr(l, "first_seen"), "    ");
    }
    for (size_t i = 0; edges && i < edges->n; i++) {
      const struct jv *e = &edges->items[i];
      long seen = num(e, "seen");
      fprintf(o, "  %s => %s: T%ld took %s while holding %s (order seen %ld time%s):\n",
              jv_str(e, "from", "?"), jv_str(e, "to", "?"), num(e, "thread"), jv_str(e, "to", "?"),
              jv_str(e, "from", "?"), seen, seen == 1 ? "" : "s");
      text_stack(o, jv_arr(e, "acquired_at"), "    ");
      fprintf(o, "   %s had been taken at:\n", jv_str(e, "from", "?"));
      text_stack(o, jv_arr(e, "held_since"), "    ");
    }
    if (*jv_str(r, "hint", "")) fprintf(o, "  hint: %s\n", jv_str(r, "hint", ""));
  } else {
    const struct jv *threads = jv_arr(r, "threads");
    size_t n = threads ? threads->n : 0, shown = n;
    /* A group of threads with the same stacks shows the first one (as the library does). */
    bool same = n > 1 && !strcmp(jv_str(r, "kind", ""), "thread-leak");
    for (size_t i = 1; same && i < n; i++)
      same = same_stack(jv_arr(&threads->items[0], "stack"), jv_arr(&threads->items[i], "stack")) &&
             same_stack(jv_arr(&threads->items[0], "created_at"), jv_arr(&threads->items[i], "created_at"));
    if (same) shown = 1;
    for (size_t i = 0; i < shown; i++) text_thread(o, &threads->items[i]);
    long more = (long)(n - shown) + num(r, "omitted_threads");
    if (more > 0 && n) {
      fprintf(o, "  ... and %ld more thread%s with the same stacks", more, more == 1 ? "" : "s");
      for (size_t i = shown; i < n && i < shown + 3; i++)
        fprintf(o, "%sT%ld", i == shown ? " (" : ", ", num(&threads->items[i], "id"));
      fputs(n > shown ? (n > shown + 3 ? ", ...)\n" : ")\n") : "\n", o);
    }
    const struct jv *groups = jv_arr(r, "groups");
    for (size_t i = 0; groups && i < groups->n; i++) {
      fprintf(o, "  %ld threads created at:\n", num(&groups->items[i], "count"));
      text_stack(o, jv_arr(&groups->items[i], "created_at"), "    ");
    }
    const struct jv *counts = jv_arr(r, "counts"); /* thread-growth */
    if (counts && counts->n) {
      fprintf(o, "  live threads of that site, one period (%ldms) apart:", num(r, "period_ms"));
      for (size_t i = 0; i < counts->n; i++) fprintf(o, "%s %.0f", i ? "," : "", counts->items[i].num);
      fputs("\n", o);
    }
  }
  if (jv_arr(r, "locked_at")) {
    fputs("  first locked at:\n", o);
    text_stack(o, jv_arr(r, "locked_at"), "    ");
  }
  if (jv_arr(r, "signalled_at")) {
    fprintf(o, "  T%ld signalled with no thread waiting at:\n", num(r, "signalled_by"));
    text_stack(o, jv_arr(r, "signalled_at"), "    ");
  }
  const struct jv *prev = jv_get(r, "previous");
  if (prev && prev->type == JV_OBJ) {
    fprintf(o, "  %s earlier by T%ld at:\n", jv_str(prev, "event", "?"), num(prev, "thread"));
    text_stack(o, jv_arr(prev, "stack"), "    ");
  }
  if (!strcmp(jv_str(r, "severity", "error"), "warning")) fputs("  (a warning)\n", o);
  fputs("\n", o);
}

/* --- SARIF ------------------------------------------------------------------------------------- */

struct view_buf {
  struct tw_view v;
  struct tw_view_frame frames[TW_VIEW_MAX_FRAMES];
  uint32_t nframes;
};

static void view_stack(struct view_buf *b, const struct jv *stack, int flow, const char *msg) {
  if (!stack || !stack->n || b->v.nstacks >= TW_VIEW_MAX_STACKS) return;
  struct tw_view_stack *s = &b->v.stacks[b->v.nstacks++];
  snprintf(s->message, sizeof(s->message), "%s", msg);
  s->flow = flow;
  s->frames = &b->frames[b->nframes];
  s->nframes = 0;
  for (size_t i = 0; i < stack->n && s->nframes < TW_VIEW_STACK_FRAMES && b->nframes < TW_VIEW_MAX_FRAMES;
       i++) {
    const struct jv *f = &stack->items[i];
    b->frames[b->nframes++] = (struct tw_view_frame){jv_str(f, "function", "??"), jv_str(f, "file", NULL),
                                                     (int)num(f, "line"), jv_str(f, "module", "??")};
    s->nframes++;
  }
}

static int view_flow(struct view_buf *b, const char *msg) {
  if (b->v.nflows >= TW_VIEW_MAX_FLOWS) return -1;
  snprintf(b->v.flow_message[b->v.nflows], TW_VIEW_MSG, "%s", msg);
  return (int)b->v.nflows++;
}

/* The view of a saved report: the same stacks, messages and flows as report/sarif.c makes. */
static void fill_view(struct view_buf *b, const struct jv *r) {
  memset(&b->v, 0, sizeof(b->v));
  b->nframes = 0;
  struct tw_view *v = &b->v;
  v->kind = jv_str(r, "kind", "");
  v->what = jv_str(r, "what", "");
  v->severity = jv_str(r, "severity", "error");
  v->message = jv_str(r, "message", "");
  v->fingerprint = jv_str(r, "fingerprint", NULL);
  v->count = (uint32_t)num(r, "count");
  char msg[TW_VIEW_MSG];
  const struct jv *edges = jv_arr(r, "edges");
  for (size_t i = 0; edges && i < edges->n; i++) {
    const struct jv *e = &edges->items[i];
    const char *from = jv_str(e, "from", "?"), *to = jv_str(e, "to", "?");
    snprintf(msg, sizeof(msg), "%s => %s: T%ld took %s while holding %s", from, to, num(e, "thread"), to,
             from);
    int fl = view_flow(b, msg);
    snprintf(msg, sizeof(msg), "T%ld took %s", num(e, "thread"), from);
    view_stack(b, jv_arr(e, "held_since"), fl, msg);
    snprintf(msg, sizeof(msg), "T%ld took %s while holding %s", num(e, "thread"), to, from);
    view_stack(b, jv_arr(e, "acquired_at"), fl, msg);
  }
  bool cycle = edges && edges->n;
  bool flows = !cycle && (!strcmp(v->kind, "deadlock") || !strcmp(v->kind, "race-suspect"));
  const struct jv *threads = jv_arr(r, "threads");
  size_t n = threads ? threads->n : 0;
  long counted = num(r, "count") - num(r, "omitted_threads");
  for (size_t i = 0; i < n; i++) {
    const struct jv *t = &threads->items[i];
    const struct jv *wait = jv_get(t, "wait");
    const char *access = jv_str(t, "access", NULL), *state = jv_str(t, "state", "running");
    if (access)
      snprintf(msg, sizeof(msg), "T%ld %s access", num(t, "id"), access);
    else if (!strcmp(state, "blocked") && wait)
      snprintf(msg, sizeof(msg), "T%ld blocked in %s() on %s", num(t, "id"), jv_str(wait, "call", "?"),
               jv_str(wait, "object", "?"));
    else
      snprintf(msg, sizeof(msg), "T%ld %s", num(t, "id"), state);
    int fl = flows && (long)i < counted ? view_flow(b, msg) : -1;
    if (!cycle) view_stack(b, jv_arr(t, "stack"), fl, msg);
    snprintf(msg, sizeof(msg), "T%ld created by T%ld", num(t, "id"), num(t, "parent"));
    view_stack(b, jv_arr(t, "created_at"), -1, msg);
  }
  const struct jv *groups = jv_arr(r, "groups");
  for (size_t i = 0; groups && i < groups->n; i++) {
    snprintf(msg, sizeof(msg), "%ld threads created here", num(&groups->items[i], "count"));
    view_stack(b, jv_arr(&groups->items[i], "created_at"), -1, msg);
  }
  view_stack(b, jv_arr(r, "locked_at"), -1, "where the lock was first taken");
  snprintf(msg, sizeof(msg), "T%ld signalled here while no thread waited", num(r, "signalled_by"));
  view_stack(b, jv_arr(r, "signalled_at"), -1, msg);
  const struct jv *prev = jv_get(r, "previous");
  if (prev) {
    snprintf(msg, sizeof(msg), "%s by T%ld", jv_str(prev, "event", "earlier"), num(prev, "thread"));
    view_stack(b, jv_arr(prev, "stack"), -1, msg);
  }
}

static int render_sarif(FILE *o, const struct reports *rs, const char *root) {
  fflush(o);
  static struct tw_out out;
  static struct view_buf b;
  tw_out_init(&out, fileno(o));
  tw_sarif_begin(&out, TW_VERSION, root);
  for (size_t i = 0; i < rs->n; i++) {
    fill_view(&b, &rs->r[i]);
    if (i) tw_out_str(&out, ",");
    tw_sarif_result(&out, &b.v, root);
  }
  tw_out_str(&out, TW_SARIF_TRAILER);
  return tw_out_flush(&out) == 0 ? 0 : cli_fail("report: writing SARIF: %s", strerror(-out.error));
}

/* --- JUnit ----------------------------------------------------------------------------------- */

/* XML text: the five entities escaped, characters XML 1.0 does not allow (control bytes but tab,
 * newline and return) replaced by U+FFFD. Input is UTF-8 (the JSON reader made it so). */
static void xml(FILE *o, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '&': fputs("&amp;", o); break;
      case '<': fputs("&lt;", o); break;
      case '>': fputs("&gt;", o); break;
      case '"': fputs("&quot;", o); break;
      case '\'': fputs("&apos;", o); break;
      default:
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
          fputs("\xef\xbf\xbd", o);
        else
          fputc(*p, o);
    }
  }
}

/* The test case of a report: its class (threadwatch.KIND) and name (WHAT at FUNCTION (FILE)). */
static void case_name(char *buf, size_t n, const struct jv *r) {
  const struct jv *f = site_frame(r);
  const char *what = jv_str(r, "what", "");
  if (f && jv_str(f, "file", NULL))
    snprintf(buf, n, "%s at %s (%s)", what, jv_str(f, "function", "??"), base(jv_str(f, "file", "")));
  else if (f)
    snprintf(buf, n, "%s at %s (%s)", what, jv_str(f, "function", "??"), base(jv_str(f, "module", "")));
  else
    snprintf(buf, n, "%s", what);
}

static const char *key_of(const struct jv *r) {
  const char *fp = jv_str(r, "fingerprint", NULL);
  return fp && *fp ? fp : jv_str(r, "message", "");
}

static int render_junit(FILE *o, const struct reports *rs, const char *fail_on) {
  /* One test case per fingerprint (kind and site), in the order of first appearance. */
  size_t *first = calloc(rs->n ? rs->n : 1, sizeof(*first)), ncases = 0, nfail = 0;
  if (!first) return cli_fail("report: out of memory");
  for (size_t i = 0; i < rs->n; i++) {
    bool seen = false;
    for (size_t k = 0; k < ncases && !seen; k++) seen = !strcmp(key_of(&rs->r[first[k]]), key_of(&rs->r[i]));
    if (!seen) first[ncases++] = i;
  }
  for (size_t k = 0; k < ncases; k++) nfail += fails(fail_on, &rs->r[first[k]]);
  size_t tests = ncases ? ncases : 1;
  fprintf(o,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<testsuites name=\"threadwatch\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"0\">\n"
          "  <testsuite name=\"threadwatch\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
          "time=\"0\">\n",
          tests, nfail, tests, nfail);
  if (!ncases)
    fputs("    <testcase classname=\"threadwatch\" name=\"no thread problems found\" time=\"0\"/>\n", o);
  char name[600];
  for (size_t k = 0; k < ncases; k++) {
    const struct jv *r = &rs->r[first[k]];
    size_t count = 0;
    for (size_t i = first[k]; i < rs->n; i++) count += !strcmp(key_of(&rs->r[i]), key_of(r));
    case_name(name, sizeof(name), r);
    /* Two sites with the same name (an overloaded function, two files of one name elsewhere) stay
     * two test cases. */
    bool clash = false;
    for (size_t j = 0; j < k && !clash; j++) {
      char other[600];
      case_name(other, sizeof(other), &rs->r[first[j]]);
      clash = !strcmp(other, name) && !strcmp(jv_str(r, "kind", ""), jv_str(&rs->r[first[j]], "kind", ""));
    }
    if (clash) snprintf(name + strlen(name), sizeof(name) - strlen(name), " [%.8s]", key_of(r));
    fputs("    <testcase classname=\"threadwatch.", o);
    xml(o, jv_str(r, "kind", "?"));
    fputs("\" name=\"", o);
    xml(o, name);
    fputs("\" time=\"0\">\n", o);
    /* The text of its reports (the first few): what a dashboard shows. */
    char *text = NULL;
    size_t tlen = 0;
    FILE *t = open_memstream(&text, &tlen);
    size_t shown = 0;
    for (size_t i = first[k]; t && i < rs->n && shown < 3; i++)
      if (!strcmp(key_of(&rs->r[i]), key_of(r))) render_text(t, &rs->r[i]), shown++;
    if (t && count > shown)
      fprintf(t, "... and %zu more report%s like it\n", count - shown, count - shown == 1 ? "" : "s");
    if (t) fclose(t);
    char msg[700];
    snprintf(msg, sizeof(msg), "%s%s", jv_str(r, "message", ""), count > 1 ? "" : "");
    if (fails(fail_on, r)) {
      fprintf(o, "      <failure type=\"%s/%s\" message=\"", jv_str(r, "kind", "?"), jv_str(r, "what", "?"));
      xml(o, msg);
      if (count > 1) fprintf(o, " (%zu reports)", count);
      fputs("\">", o);
      xml(o, text ? text : "");
      fputs("</failure>\n", o);
    } else {
      fputs("      <system-out>", o);
      xml(o, text ? text : "");
      fputs("</system-out>\n", o);
    }
    free(text);
    fputs("    </testcase>\n", o);
  }
  fputs("  </testsuite>\n</testsuites>\n", o);
  free(first);
  return 0;
}

/* --- the commands ------------------------------------------------------------------------------- */

static FILE *open_output(const char *cmd, const char *path) {
  if (!path || !strcmp(path, "-")) return stdout;
  FILE *f = fopen(path, "we");
  if (!f) cli_fail("%s: cannot write %s: %s", cmd, path, strerror(errno));
  return f;
}

static int close_output(const char *cmd, FILE *f, const char *path) {
  int bad = fflush(f) != 0 || ferror(f);
  if (f != stdout) bad |= fclose(f) != 0;
  if (bad) return cli_fail("%s: writing %s: %s", cmd, path ? path : "stdout", strerror(errno));
  return 0;
}

int cmd_report(int argc, char **argv) {
  enum { O_SRCROOT = 0x2000, O_FAILON };
  static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                           {"output", required_argument, NULL, 'o'},
                                           {"source-root", required_argument, NULL, O_SRCROOT},
                                           {"fail-on", required_argument, NULL, O_FAILON},
                                           {"help", no_argument, NULL, CLI_OPT_HELP},
                                           {"version", no_argument, NULL, CLI_OPT_VERSION},
                                           {NULL, 0, NULL, 0}};
  const char *format = "text", *output = NULL, *root = getenv("THREADWATCH_SOURCE_ROOT");
  char fail_on[TW_OPT_STR_MAX] = "error";
  int c;
  optind = 0;
  while ((c = getopt_long(argc, argv, "hf:o:", longopts, NULL)) != -1) {
    switch (c) {
      case 'f': format = optarg; break;
      case 'o': output = optarg; break;
      case O_SRCROOT: root = optarg; break;
      case O_FAILON:
        if (tw__parse_failon(optarg, fail_on) != 0)
          return cli_misuse("report",
                            "--fail-on %s: expected a comma list of error, warning, all, "
                            "none, report kinds (stall) or kind/what (thread-leak/blocked)",
                            optarg);
        break;
      case CLI_OPT_HELP: return cli_help("report", stdout);
      case CLI_OPT_VERSION: return cli_version();
      default:
        fprintf(stderr,
                "usage: threadwatch report [OPTIONS] FILE.jsonl...\n(threadwatch report --help for more)\n");
        return 2;
    }
  }
  if (strcmp(format, "text") && strcmp(format, "sarif") && strcmp(format, "junit"))
    return cli_misuse("report", "--format %s: expected text, sarif or junit", format);
  if (optind >= argc) return cli_misuse("report", "no JSON Lines file given (- reads stdin)");
  struct reports rs = {0};
  for (int i = optind; i < argc; i++)
    if (read_file("report", argv[i], &rs) != 0) return free_reports(&rs), 1;
  FILE *o = open_output("report", output);
  if (!o) return free_reports(&rs), 1;
  int rc = 0;
  if (!strcmp(format, "text"))
    for (size_t i = 0; i < rs.n; i++) render_text(o, &rs.r[i]);
  else if (!strcmp(format, "sarif"))
    rc = render_sarif(o, &rs, root);
  else
    rc = render_junit(o, &rs, fail_on);
  free_reports(&rs);
  int crc = close_output("report", o, output);
  return rc ? rc : crc;
}

/* A function name as an fnmatch pattern that matches only itself. */
static void glob_escape(char *out, size_t n, const char *s) {
  size_t o = 0;
  for (; *s && o + 2 < n; s++) {
    if (*s == '*' || *s == '?' || *s == '[' || *s == ']' || *s == '\\') out[o++] = '\\';
    if (*s == '\n' || *s == '\r') continue;
    out[o++] = *s;
  }
  out[o] = '\0';
}

int cmd_suppress(int argc, char **argv) {
  static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                           {"help", no_argument, NULL, CLI_OPT_HELP},
                                           {"version", no_argument, NULL, CLI_OPT_VERSION},
                                           {NULL, 0, NULL, 0}};
  const char *output = NULL;
  int c;
  optind = 0;
  while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
    if (c == 'o')
      output = optarg;
    else if (c == CLI_OPT_HELP)
      return cli_help("suppress", stdout);
    else if (c == CLI_OPT_VERSION)
      return cli_version();
    else {
      fprintf(
          stderr,
          "usage: threadwatch suppress [OPTIONS] FILE.jsonl...\n(threadwatch suppress --help for more)\n");
      return 2;
    }
  }
  if (optind >= argc) return cli_misuse("suppress", "no JSON Lines file given (- reads stdin)");
  struct reports rs = {0};
  for (int i = optind; i < argc; i++)
    if (read_file("suppress", argv[i], &rs) != 0) return free_reports(&rs), 1;
  FILE *o = open_output("suppress", output);
  if (!o) return free_reports(&rs), 1;
  fprintf(o,
          "# threadwatch suppressions: one rule per distinct report (fingerprint), the program's\n"
          "# innermost frame as the pattern. Use with THREADWATCH_SUPPRESS=FILE or run --suppress.\n");
  char **lines = calloc(rs.n ? rs.n : 1, sizeof(*lines));
  size_t nlines = 0;
  for (size_t i = 0; lines && i < rs.n; i++) {
    const struct jv *r = &rs.r[i];
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(key_of(&rs.r[j]), key_of(r));
    if (seen) continue;
    size_t count = 0;
    for (size_t j = i; j < rs.n; j++) count += !strcmp(key_of(&rs.r[j]), key_of(r));
    const struct jv *f = site_frame(r);
    const char *fn = f ? jv_str(f, "function", "??") : "??";
    char pattern[512];
    if (f && strcmp(fn, "??"))
      glob_escape(pattern, sizeof(pattern), fn);
    else if (f && jv_str(f, "file", NULL))
      glob_escape(pattern, sizeof(pattern), base(jv_str(f, "file", "")));
    else if (f)
      glob_escape(pattern, sizeof(pattern), base(jv_str(f, "module", "")));
    else {
      fprintf(o, "# %s/%s: no frame of the program to name: %s\n", jv_str(r, "kind", "?"),
              jv_str(r, "what", "?"), jv_str(r, "message", ""));
      continue;
    }
    char line[700];
    snprintf(line, sizeof(line), "%s/%s:%s", jv_str(r, "kind", "?"), jv_str(r, "what", "?"), pattern);
    fprintf(o, "# %s/%s, %zu report%s, fingerprint %s: ", jv_str(r, "kind", "?"), jv_str(r, "what", "?"),
            count, count == 1 ? "" : "s", jv_str(r, "fingerprint", "(none)"));
    for (const char *p = jv_str(r, "message", ""); *p; p++) fputc(*p == '\n' || *p == '\r' ? ' ' : *p, o);
    fputc('\n', o);
    bool dup = false;
    for (size_t j = 0; j < nlines && !dup; j++) dup = !strcmp(lines[j], line);
    if (dup) {
      fprintf(o, "# (covered by the rule %s, written above)\n", line);
      continue;
    }
    lines[nlines++] = strdup(line);
    fprintf(o, "%s\n", line);
  }
  for (size_t j = 0; j < nlines; j++) free(lines[j]);
  free(lines);
  free_reports(&rs);
  return close_output("suppress", o, output);
}
