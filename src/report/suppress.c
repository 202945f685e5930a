/* Suppressions file: parse `KIND:PATTERN` and `KIND/WHAT:PATTERN` lines, match globs against
 * symbolized report frames, count what each rule suppressed and say it at exit. */
#include "report/suppress.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/msg.h"
#include "base/options.h"
#include "base/real.h"
#include "base/tw.h"
#include "report/rules.h"

struct rule {
  char kind[24];
  char what[32]; /* "" for any */
  char *pattern;
  int line;      /* in the file */
  uint64_t hits; /* reports it suppressed (analysis lock held) */
};

struct tw_suppressions {
  size_t n;
  struct rule *rules;
};

static struct tw_suppressions *loaded;

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
  return s;
}

int tw_suppress_parse(struct tw_suppressions **out, const char *text, char *err, size_t n) {
  struct tw_suppressions *s = calloc(1, sizeof(*s));
  char *copy = strdup(text);
  if (!s || !copy) {
    free(s);
    free(copy);
    snprintf(err, n, "out of memory");
    return -ENOMEM;
  }
  int lineno = 0;
  char *next = copy;
  while (next) { /* every line counts for the line numbers, blank ones too */
    char *line = next;
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    next = nl ? nl + 1 : NULL;
    lineno++;
    char *l = trim(line);
    if (*l == '\0' || *l == '#') continue;
    char *colon = strchr(l, ':');
    if (!colon) {
      snprintf(err, n, "line %d: expected KIND:PATTERN, got '%.60s'", lineno, l);
      goto fail;
    }
    *colon = '\0';
    char *kind = trim(l), *pattern = trim(colon + 1);
    char *what = strchr(kind, '/');
    if (what) {
      *what++ = '\0';
      what = trim(what);
      kind = trim(kind);
    }
    if (strcmp(kind, "*") != 0 && !tw_rule_known(kind, NULL)) {
      snprintf(err, n, "line %d: unknown kind '%.30s' (expected thread-leak, thread-surge, "
               "thread-growth, lock-order-cycle, deadlock, stall, misuse, race-suspect or *, "
               "optionally /WHAT)", lineno, kind);
      goto fail;
    }
    if (what && (strcmp(kind, "*") == 0 || !*what || !tw_rule_known(kind, what))) {
      char known[512] = "";
      size_t nr, len = 0;
      const struct tw_rule *rules = tw_rules(&nr);
      for (size_t i = 0; i < nr && len < sizeof(known); i++)
        if (!strcmp(rules[i].kind, kind) && rules[i].what[0])
          len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", len ? ", " : "",
                                  rules[i].what);
      snprintf(err, n, "line %d: unknown sub-kind '%.30s/%.30s'%s%s%s", lineno, kind, what,
               known[0] ? " (" : " (a sub-kind needs a kind)", known, known[0] ? ")" : "");
      goto fail;
    }
    if (*pattern == '\0') {
      snprintf(err, n, "line %d: empty pattern", lineno);
      goto fail;
    }
    struct rule *grown = realloc(s->rules, sizeof(*grown) * (s->n + 1));
    if (!grown) {
      snprintf(err, n, "out of memory");
      goto fail;
    }
    s->rules = grown;
    snprintf(s->rules[s->n].kind, sizeof(s->rules[s->n].kind), "%s", kind);
    snprintf(s->rules[s->n].what, sizeof(s->rules[s->n].what), "%s", what ? what : "");
    s->rules[s->n].line = lineno;
    s->rules[s->n].hits = 0;
    s->rules[s->n].pattern = strdup(pattern);
    if (!s->rules[s->n].pattern) goto fail;
    s->n++;
  }
  free(copy);
  *out = s;
  return 0;
fail:
  free(copy);
  tw_suppress_free(s);
  return -EINVAL;
}

void tw_suppress_free(struct tw_suppressions *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) free(s->rules[i].pattern);
  free(s->rules);
  free(s);
}

static bool glob(const char *pattern, const char *s) { return s && fnmatch(pattern, s, 0) == 0; }

static const char *base(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path;
}

int tw_suppress_match(const struct tw_suppressions *s, const char *kind, const char *what,
                      const struct tw_frame *f) {
  if (!s) return -1;
  for (size_t i = 0; i < s->n; i++) {
    const struct rule *r = &s->rules[i];
    if (strcmp(r->kind, "*") != 0 && strcmp(r->kind, kind) != 0) continue;
    if (r->what[0] && (!what || strcmp(r->what, what) != 0)) continue;
    if (glob(r->pattern, f->function) || glob(r->pattern, f->file) ||
        glob(r->pattern, base(f->file)) || glob(r->pattern, base(f->module)))
      return (int)i;
  }
  return -1;
}

bool tw_suppress_match_frame(const struct tw_suppressions *s, const char *kind,
                             const struct tw_frame *f) {
  return tw_suppress_match(s, kind, NULL, f) >= 0;
}

void tw_suppress_hit(struct tw_suppressions *s, int rule) {
  if (s && rule >= 0 && (size_t)rule < s->n) s->rules[rule].hits++;
}

uint64_t tw_suppress_hits(const struct tw_suppressions *s, int rule) {
  return s && rule >= 0 && (size_t)rule < s->n ? s->rules[rule].hits : 0;
}

void tw_suppress_summary(const struct tw_suppressions *s, const char *file, long pid, bool verbose,
                         void (*line)(const char *text)) {
  if (!s) return;
  const char *name = base(file);
  for (size_t i = 0; i < s->n; i++) {
    const struct rule *r = &s->rules[i];
    if (!r->hits && !verbose) continue;
    char text[600], rule[300];
    snprintf(rule, sizeof(rule), "%s%s%s:%s", r->kind, r->what[0] ? "/" : "", r->what, r->pattern);
    char shown[320];
    tw_msg_quote(shown, sizeof(shown), rule); /* the file's text: no control bytes on the log */
    if (r->hits)
      snprintf(text, sizeof(text), "==%ld== threadwatch: suppression %s (%s:%d) matched %llu report%s\n",
               pid, shown, name, r->line, (unsigned long long)r->hits, r->hits == 1 ? "" : "s");
    else
      snprintf(text, sizeof(text), "==%ld== threadwatch: suppression %s (%s:%d) never matched\n", pid,
               shown, name, r->line);
    line(text);
  }
}

/* Reads the whole file, bounded: a regular file of at most TW_SUPPRESS_MAX_BYTES, opened without
 * waiting (a FIFO, a device, /dev/zero are refused, never read). Returns the text (NUL-terminated,
 * *len bytes before the NUL) or NULL with the reason in why. */
static char *read_bounded(const char *path, size_t *len, char *why, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    snprintf(why, n, "%s", strerror(errno));
    return NULL;
  }
  struct stat st;
  char *text = NULL;
  if (fstat(fd, &st) != 0) {
    snprintf(why, n, "%s", strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    snprintf(why, n, "it is not a regular file (%s)",
             S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a character device" :
             S_ISDIR(st.st_mode) ? "a directory" : S_ISSOCK(st.st_mode) ? "a socket" : "special");
  } else if (st.st_size > (off_t)TW_SUPPRESS_MAX_BYTES) {
    snprintf(why, n, "it has %lld bytes, more than the %u a suppressions file may have",
             (long long)st.st_size, (unsigned)TW_SUPPRESS_MAX_BYTES);
  } else if (!(text = malloc((size_t)st.st_size + 1))) {
    snprintf(why, n, "out of memory");
  } else {
    size_t got = 0;
    while (got < (size_t)st.st_size) {
      ssize_t r = TW_REAL_FN(read)(fd, text + got, (size_t)st.st_size - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        snprintf(why, n, "%s", strerror(errno));
        free(text);
        text = NULL;
        break;
      }
      if (r == 0) break; /* it shrank meanwhile: what there is */
      got += (size_t)r;
    }
    if (text) {
      text[got] = '\0';
      *len = got;
    }
  }
  TW_REAL_FN(close)(fd);
  return text;
}

void tw__suppress_load(void) {
  const char *path = tw__opt.suppress;
  if (!path[0]) return;
  char quoted[160], why[240];
  tw_msg_quote(quoted, sizeof(quoted), path);
  size_t len = 0;
  char *text = read_bounded(path, &len, why, sizeof(why));
  if (!text) {
    /* The file is the environment's problem (a path inherited by a child that changed directory,
     * a file not there yet): the program runs, with no suppressions, and says so. */
    tw_msg("threadwatch: THREADWATCH_SUPPRESS: cannot read %s: %s; no suppressions are in force",
           quoted, why);
    return;
  }
  const char *nul = memchr(text, '\0', len);
  if (nul) {
    unsigned line = 1;
    for (const char *p = text; p < nul; p++) line += *p == '\n';
    free(text);
    tw_msg("threadwatch: THREADWATCH_SUPPRESS: %s: line %u: a NUL byte (not a text file?)", quoted,
           line);
    _exit(2);
  }
  if (tw_suppress_parse(&loaded, text, why, sizeof(why)) != 0) {
    free(text);
    tw_msg("threadwatch: THREADWATCH_SUPPRESS: %s: %s", quoted, why);
    _exit(2);
  }
  free(text);
}

struct tw_suppressions *tw__suppressions(void) { return loaded; }
