/* The output of `threadwatch attach`: the thread dump in the layout of `threadwatch dump`
 * (docs/dump.md), then the verdict: each deadlock as the library's text or JSON report writes it,
 * or "no deadlock found" with the longest waits (docs/attach.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "report/symbolize.h"

/* Thread ids listed on a text group's "threads:" line (as `threadwatch dump`). */
#define TEXT_IDS 64
/* Longest waits listed when no deadlock is found. */
#define LONGEST 5

/* --- module offsets, for frames without a symbol (stripped binaries) --------------------------- */

struct mapping {
  uintptr_t start, end, off;
};
static struct mapping *maps;
static size_t nmaps;

static void load_maps(pid_t pid, int tid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", pid, tid);
  FILE *f = fopen(path, "re");
  if (!f) return;
  char line[4096];
  size_t cap = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long s, e, o;
    if (sscanf(line, "%lx-%lx %*s %lx", &s, &e, &o) != 3) continue;
    if (nmaps == cap) {
      struct mapping *m = realloc(maps, sizeof(*m) * (cap = cap ? 2 * cap : 64));
      if (!m) break;
      maps = m;
    }
    maps[nmaps++] = (struct mapping){s, e, o};
  }
  fclose(f);
}

/* The offset of pc in its module's file (what addr2line and eu-addr2line take for a PIE). */
static bool module_offset(uintptr_t pc, uintptr_t *off) {
  for (size_t i = 0; i < nmaps; i++)
    if (pc >= maps[i].start && pc < maps[i].end) {
      *off = pc - maps[i].start + maps[i].off;
      return true;
    }
  return false;
}

static const char *base(const char *p) {
  const char *b = p ? strrchr(p, '/') : NULL;
  return b ? b + 1 : p ? p : "??";
}

/* --- JSON strings ---------------------------------------------------------------------------- */

static void json_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p == '\n') fputs("\\n", stdout);
    else if (*p < 0x20 || *p >= 0x7f) printf("\\u%04x", *p); /* bytes as U+0000..U+00FF */
    else putchar(*p);
  }
  putchar('"');
}

/* --- stacks --------------------------------------------------------------------------------- */

/* The frames shown: a blocked thread's from the program's call into the C library on (like the
 * library's reports: frame 0 is the program's call), a running thread's all. */
int at_first_shown(const struct at_thread *t) {
  return t->wait != AT_W_NONE && t->first_app < t->npcs ? t->first_app : 0;
}

static void text_stack(const struct at_thread *t, const char *indent) {
  if (t->npcs == 0) {
    printf("%s(stack unavailable)\n", indent);
    return;
  }
  int num = 0;
  for (int i = at_first_shown(t); i < t->npcs; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(t->pcs[i], f, TW_MAX_INLINE);
    for (int j = 0; j < nf; j++) {
      uintptr_t off;
      if (f[j].function && strcmp(f[j].function, "??") != 0)
        printf("%s#%d 0x%lx in %s", indent, num++, (unsigned long)f[j].pc, f[j].function);
      else if (module_offset(f[j].pc, &off))
        printf("%s#%d 0x%lx in %s+0x%lx", indent, num++, (unsigned long)f[j].pc,
               base(f[j].module), (unsigned long)off);
      else printf("%s#%d 0x%lx in ??", indent, num++, (unsigned long)f[j].pc);
      if (f[j].file) printf(" %s:%d", f[j].file, f[j].line);
      printf(" (%s)%s\n", f[j].module, f[j].inlined ? " [inlined]" : "");
    }
  }
}

static void json_stack(const struct at_thread *t) {
  putchar('[');
  int num = 0;
  for (int i = at_first_shown(t); i < t->npcs; i++) {
    struct tw_frame f[TW_MAX_INLINE];
    int nf = tw_symbolize(t->pcs[i], f, TW_MAX_INLINE);
    for (int j = 0; j < nf; j++) {
      printf("%s{\"pc\":\"0x%lx\",\"function\":", num++ ? "," : "", (unsigned long)f[j].pc);
      json_str(f[j].function);
      if (f[j].file) {
        fputs(",\"file\":", stdout);
        json_str(f[j].file);
        printf(",\"line\":%d", f[j].line);
      }
      fputs(",\"module\":", stdout);
      json_str(f[j].module);
      uintptr_t off;
      if (module_offset(f[j].pc, &off)) printf(",\"module_offset\":\"0x%lx\"", (unsigned long)off);
      if (f[j].inlined) fputs(",\"inlined\":true", stdout);
      putchar('}');
    }
  }
  putchar(']');
}

/* --- words shared by text and JSON ---------------------------------------------------------- */

static bool blocked(const struct at_thread *t) { return t->wait != AT_W_NONE; }

static void duration(char *buf, size_t n, uint64_t ns) {
  if (ns >= 60ull * 1000000000ull) snprintf(buf, n, "%.1fmin", (double)ns / 60e9);
  else if (ns >= 1000000000ull) snprintf(buf, n, "%.2fs", (double)ns / 1e9);
  else snprintf(buf, n, "%.0fms", (double)ns / 1e6);
}

static void who(const struct at_thread *t) {
  printf("T%llu", (unsigned long long)t->id);
  if (t->name[0]) {
    char safe[sizeof(t->name)];
    size_t k = 0;
    for (; k + 1 < sizeof(safe) && t->name[k]; k++)
      safe[k] = (unsigned char)t->name[k] < 0x20 || t->name[k] == 0x7f ? '?' : t->name[k];
    safe[k] = '\0';
    printf(" \"%s\"", safe);
  }
  printf(" (tid %d)", t->tid);
}

/* --- groups --------------------------------------------------------------------------------- */

static const struct at_snapshot *sorting;

/* Threads with the same state, call and stack are one group (as `threadwatch dump`). */
static int key_cmp(const struct at_thread *x, const struct at_thread *y) {
  if (blocked(x) != blocked(y)) return blocked(x) ? 1 : -1;
  int c = strcmp(x->call ? x->call : "", y->call ? y->call : "");
  if (c) return c;
  int fx = at_first_shown(x), fy = at_first_shown(y);
  if (x->npcs - fx != y->npcs - fy) return x->npcs - fx < y->npcs - fy ? -1 : 1;
  for (int i = 0; i < x->npcs - fx; i++)
    if (x->pcs[fx + i] != y->pcs[fy + i]) return x->pcs[fx + i] < y->pcs[fy + i] ? -1 : 1;
  return 0;
}

static int by_key_then_id(const void *a, const void *b) {
  const struct at_thread *x = &sorting->t[*(const int *)a], *y = &sorting->t[*(const int *)b];
  int c = key_cmp(x, y);
  if (c) return c;
  return x->id < y->id ? -1 : x->id > y->id;
}

struct group {
  size_t first, count; /* into the sorted index array */
};

static int by_count_desc(const void *a, const void *b) {
  const struct group *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first;
}

struct facts {
  bool same_object, same_note;
  uint64_t min_ns, max_ns;
  bool known;
};

static struct facts group_facts(const struct at_snapshot *s, const int *idx, const struct group *g) {
  const struct at_thread *t0 = &s->t[idx[g->first]];
  struct facts f = {true, true, t0->idle_ns, t0->idle_ns, t0->idle_known};
  for (size_t i = g->first + 1; i < g->first + g->count; i++) {
    const struct at_thread *t = &s->t[idx[i]];
    f.same_object &= strcmp(t->object, t0->object) == 0;
    f.same_note &= strcmp(t->note, t0->note) == 0;
    f.known &= t->idle_known;
    if (t->idle_ns < f.min_ns) f.min_ns = t->idle_ns;
    if (t->idle_ns > f.max_ns) f.max_ns = t->idle_ns;
  }
  return f;
}

static void text_state(const struct at_thread *t, const struct facts *f) {
  if (!blocked(t)) {
    bool note = f->same_note && t->note[0];
    printf("running%s%s%s\n", note ? ": " : "", note ? t->note : "", t->npcs ? ":" : "");
    return;
  }
  printf("blocked in %s() on %s", t->call, f->same_object ? t->object : "different objects");
  if (f->known) {
    char lo[32], hi[32];
    duration(lo, sizeof(lo), f->min_ns);
    duration(hi, sizeof(hi), f->max_ns);
    printf(" for %s", lo);
    if (strcmp(lo, hi) != 0) printf(" to %s", hi);
  }
  if (f->same_note && t->note[0]) printf("; %s", t->note);
  fputs(":\n", stdout);
}

static void json_wait(const struct at_snapshot *s, const struct at_thread *t, const struct facts *f,
                      bool group) {
  printf(",\"wait\":{\"call\":\"%s\",\"object\":", t->call);
  json_str(f->same_object ? t->object : "different objects");
  if (f->same_note && t->note[0]) {
    fputs(",\"note\":", stdout);
    json_str(t->note);
  }
  if (f->same_object) {
    if (t->wait == AT_W_FD || (t->wait == AT_W_POLL && t->fd)) printf(",\"fd\":%d", t->fd);
    else if (t->addr) printf(",\"address\":\"0x%lx\"", (unsigned long)t->addr);
  }
  if (!group && t->target >= 0 && (t->wait == AT_W_MUTEX || t->wait == AT_W_RWLOCK ||
                                   t->wait == AT_W_LLL))
    printf(",\"held_by\":[%llu]", (unsigned long long)s->t[t->target].id);
  if (t->timed) fputs(",\"timed\":true", stdout);
  if (f->known) {
    printf(",\"for_ms\":%llu", (unsigned long long)(f->max_ns / 1000000));
    if (group) printf(",\"min_for_ms\":%llu", (unsigned long long)(f->min_ns / 1000000));
  }
  putchar('}');
}

static void json_thread(const struct at_snapshot *s, size_t i, bool with_held) {
  const struct at_thread *t = &s->t[i];
  struct facts f = {true, true, t->idle_ns, t->idle_ns, t->idle_known};
  printf("{\"id\":%llu,\"tid\":%d,\"name\":", (unsigned long long)t->id, t->tid);
  json_str(t->name);
  printf(",\"state\":\"%s\"", blocked(t) ? "blocked" : "running");
  if (blocked(t)) json_wait(s, t, &f, false);
  else if (t->note[0]) {
    fputs(",\"note\":", stdout);
    json_str(t->note);
  }
  if (with_held) {
    fputs(",\"locks_held\":[", stdout);
    int k = 0;
    for (size_t j = 0; j < s->n; j++) {
      const struct at_thread *o = &s->t[j];
      if (o->target != (int)i || o == t || (o->wait != AT_W_MUTEX && o->wait != AT_W_RWLOCK &&
                                            o->wait != AT_W_LLL))
        continue;
      bool dup = false;
      for (size_t m = 0; m < j && !dup; m++)
        dup = s->t[m].target == (int)i && s->t[m].addr == o->addr && &s->t[m] != t;
      if (dup) continue;
      printf("%s{\"address\":\"0x%lx\",\"name\":\"\",\"object\":", k++ ? "," : "",
             (unsigned long)o->addr);
      json_str(o->object);
      putchar('}');
    }
    putchar(']');
  }
  fputs(",\"parent\":0,\"stack\":", stdout);
  json_stack(t);
  fputs(",\"created_at\":[]}", stdout);
}

/* --- reports -------------------------------------------------------------------------------- */

static void text_report(const struct at_snapshot *s, const struct at_report *r) {
  printf("\n==%d== threadwatch: deadlock: %s\n", s->pid, r->message);
  for (size_t k = 0; k < r->n; k++) {
    const struct at_thread *t = &s->t[r->idx[k]];
    fputs("  ", stdout);
    who(t);
    if (blocked(t)) {
      char held[48] = "";
      if (t->target >= 0 && (t->wait == AT_W_MUTEX || t->wait == AT_W_RWLOCK ||
                             t->wait == AT_W_LLL))
        snprintf(held, sizeof(held), " (held by T%llu)", (unsigned long long)s->t[t->target].id);
      printf(" blocked in %s() on %s%s", t->call, t->object, held);
      if (t->idle_known) {
        char d[32];
        duration(d, sizeof(d), t->idle_ns);
        printf(" for %s", d);
      }
      printf("%s%s:\n", t->note[0] ? "; " : "", t->note);
    } else {
      printf(" running%s%s:\n", t->note[0] ? ": " : "", t->note);
    }
    text_stack(t, "    ");
    char held[512];
    at_held(s, (size_t)r->idx[k], held, sizeof(held));
    if (held[0]) printf("  holding %s\n", held);
  }
  if (r->count > r->n) printf("  ... and %zu more threads\n", r->count - r->n);
}

static void json_report(const struct at_snapshot *s, const struct at_report *r) {
  fputs("{\"kind\":\"deadlock\",\"what\":", stdout);
  json_str(r->what);
  fputs(",\"message\":", stdout);
  json_str(r->message);
  printf(",\"pid\":%d,\"count\":%zu,\"threads\":[", s->pid, r->count);
  for (size_t k = 0; k < r->n; k++) {
    if (k) putchar(',');
    json_thread(s, (size_t)r->idx[k], true);
  }
  printf("],\"omitted_threads\":%zu,\"dropped_events\":0}", r->count - r->n);
}

/* Blocked threads by how long they have waited, longest first. */
static int by_idle_desc(const void *a, const void *b) {
  const struct at_thread *x = &sorting->t[*(const int *)a], *y = &sorting->t[*(const int *)b];
  if (x->idle_ns != y->idle_ns) return x->idle_ns > y->idle_ns ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

static size_t longest_waits(const struct at_snapshot *s, int *out) {
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++)
    if (blocked(&s->t[i])) out[k++] = (int)i;
  sorting = s;
  qsort(out, k, sizeof(int), by_idle_desc);
  return k < LONGEST ? k : LONGEST;
}

/* --- the whole -------------------------------------------------------------------------------- */

int at_print(struct at_snapshot *s, bool all, bool json) {
  size_t running = 0, nblocked = 0;
  for (size_t i = 0; i < s->n; i++) blocked(&s->t[i]) ? nblocked++ : running++;
  load_maps(s->pid, s->live);
  int *idx = malloc(sizeof(int) * (s->n ? s->n : 1));
  struct group *g = malloc(sizeof(*g) * (s->n ? s->n : 1));
  if (!idx || !g) {
    fprintf(stderr, "threadwatch: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < s->n; i++) idx[i] = (int)i;
  size_t ng = 0;
  if (!all) {
    sorting = s;
    qsort(idx, s->n, sizeof(int), by_key_then_id);
    for (size_t i = 0; i < s->n; i++) {
      if (ng > 0 && key_cmp(&s->t[idx[g[ng - 1].first]], &s->t[idx[i]]) == 0) g[ng - 1].count++;
      else g[ng++] = (struct group){i, 1};
    }
    qsort(g, ng, sizeof(*g), by_count_desc);
  }
  size_t not_stopped = s->n - s->nstopped;
  int rc = s->nreports ? 66 : 0;
  int *lw = malloc(sizeof(int) * (s->n ? s->n : 1));
  size_t nlw = lw ? longest_waits(s, lw) : 0;

  if (json) {
    printf("{\"pid\":%d,\"exe\":", s->pid);
    json_str(s->exe);
    if (!all) printf(",\"threads\":%zu", s->n);
    printf(",\"running\":%zu,\"blocked\":%zu,\"not_stopped\":%zu,\"stopped_ms\":%.3f,"
           "\"took_ms\":%.3f",
           running, nblocked, not_stopped, (double)s->stopped_ns / 1e6, (double)s->took_ns / 1e6);
    if (all) {
      fputs(",\"threads\":[", stdout);
      for (size_t i = 0; i < s->n; i++) {
        if (i) putchar(',');
        json_thread(s, i, false);
      }
    } else {
      fputs(",\"groups\":[", stdout);
      for (size_t k = 0; k < ng; k++) {
        const struct at_thread *t0 = &s->t[idx[g[k].first]];
        struct facts f = group_facts(s, idx, &g[k]);
        printf("%s{\"count\":%zu,\"state\":\"%s\"", k ? "," : "", g[k].count,
               blocked(t0) ? "blocked" : "running");
        if (blocked(t0)) json_wait(s, t0, &f, true);
        else if (f.same_note && t0->note[0]) {
          fputs(",\"note\":", stdout);
          json_str(t0->note);
        }
        fputs(",\"ids\":[", stdout);
        for (size_t i = 0; i < g[k].count; i++)
          printf("%s%llu", i ? "," : "", (unsigned long long)s->t[idx[g[k].first + i]].id);
        fputs("],\"tids\":[", stdout);
        for (size_t i = 0; i < g[k].count; i++)
          printf("%s%d", i ? "," : "", s->t[idx[g[k].first + i]].tid);
        fputs("],\"stack\":", stdout);
        json_stack(t0);
        fputs(",\"created_at\":[]}", stdout);
      }
    }
    printf("],\"deadlock\":%s,\"reports\":[", s->nreports ? "true" : "false");
    for (size_t r = 0; r < s->nreports; r++) {
      if (r) putchar(',');
      json_report(s, &s->reports[r]);
    }
    fputs("],\"longest_waits\":[", stdout);
    for (size_t k = 0; k < nlw; k++) {
      const struct at_thread *t = &s->t[lw[k]];
      printf("%s{\"id\":%llu,\"tid\":%d,\"call\":\"%s\",\"object\":", k ? "," : "",
             (unsigned long long)t->id, t->tid, t->call);
      json_str(t->object);
      if (t->idle_known) printf(",\"for_ms\":%llu", (unsigned long long)(t->idle_ns / 1000000));
      putchar('}');
    }
    fputs("]}\n", stdout);
  } else {
    printf("threadwatch attach of pid %d (%s): %zu thread%s (%zu running, %zu blocked); stopped "
           "for %.1fms\n", s->pid, base(s->exe), s->n, s->n == 1 ? "" : "s", running, nblocked,
           (double)s->stopped_ns / 1e6);
    if (not_stopped)
      printf("(%zu thread%s did not stop within the time allowed: shown from /proc, without a "
             "stack)\n", not_stopped, not_stopped == 1 ? "" : "s");
    if (all) {
      for (size_t i = 0; i < s->n; i++) {
        const struct at_thread *t = &s->t[i];
        struct facts f = {true, true, t->idle_ns, t->idle_ns, t->idle_known};
        putchar('\n');
        who(t);
        putchar(' ');
        text_state(t, &f);
        text_stack(t, "    ");
      }
    } else {
      for (size_t k = 0; k < ng; k++) {
        const struct at_thread *t0 = &s->t[idx[g[k].first]];
        struct facts f = group_facts(s, idx, &g[k]);
        printf("\n%zu thread%s: ", g[k].count, g[k].count == 1 ? "" : "s");
        text_state(t0, &f);
        fputs("  threads: ", stdout);
        size_t listed = g[k].count < TEXT_IDS ? g[k].count : TEXT_IDS;
        for (size_t i = 0; i < listed; i++) {
          if (i) fputs(", ", stdout);
          who(&s->t[idx[g[k].first + i]]);
        }
        if (g[k].count > listed)
          printf(" and %zu more (attach --all lists them)", g[k].count - listed);
        putchar('\n');
        text_stack(t0, "    ");
      }
    }
    for (size_t r = 0; r < s->nreports; r++) text_report(s, &s->reports[r]);
    if (s->nreports) {
      printf("\nthreadwatch: %zu deadlock%s found in process %d\n", s->nreports,
             s->nreports == 1 ? "" : "s", s->pid);
    } else {
      printf("\nthreadwatch: no deadlock found in process %d%s\n", s->pid,
             nlw ? "; the longest waits:" : " (no thread is blocked)");
      for (size_t k = 0; k < nlw; k++) {
        const struct at_thread *t = &s->t[lw[k]];
        char d[32] = "?", where[200];
        if (t->idle_known) duration(d, sizeof(d), t->idle_ns);
        at_where(t, where, sizeof(where));
        printf("  ");
        who(t);
        printf(" for %s in %s() on %s%s at %s\n", d, t->call, t->object, t->timed ? " (timed)" : "",
               where);
      }
    }
  }
  fflush(stdout);
  free(lw);
  free(idx);
  free(g);
  return rc;
}
