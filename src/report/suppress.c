/* Suppressions file: parse `KIND:PATTERN` lines, match globs against symbolized report frames. */
#include "report/suppress.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/msg.h"
#include "base/options.h"
#include "base/real.h"
#include "base/tw.h"

static const char *const known_kinds[] = {
    "thread-leak", "thread-surge", "lock-order-cycle", "deadlock", "stall", "misuse",
    "race-suspect", "*",
};

struct rule {
  char kind[24];
  char *pattern;
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
    bool ok = false;
    for (size_t i = 0; i < TW_ARRAY_LEN(known_kinds); i++) ok |= strcmp(kind, known_kinds[i]) == 0;
    if (!ok) {
      snprintf(err, n, "line %d: unknown kind '%.30s' (expected thread-leak, thread-surge, "
               "lock-order-cycle, deadlock, stall, misuse, race-suspect or *)", lineno, kind);
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

bool tw_suppress_match_frame(const struct tw_suppressions *s, const char *kind,
                             const struct tw_frame *f) {
  if (!s) return false;
  for (size_t i = 0; i < s->n; i++) {
    const struct rule *r = &s->rules[i];
    if (strcmp(r->kind, "*") != 0 && strcmp(r->kind, kind) != 0) continue;
    if (glob(r->pattern, f->function) || glob(r->pattern, f->file) ||
        glob(r->pattern, base(f->file)) || glob(r->pattern, base(f->module)))
      return true;
  }
  return false;
}

void tw__suppress_load(void) {
  const char *path = tw__opt.suppress;
  if (!path[0]) return;
  char err[TW_OPT_STR_MAX + 400];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, sizeof(err), "threadwatch: THREADWATCH_SUPPRESS: cannot read '%s': %s\n", path,
             strerror(errno));
    goto die;
  }
  size_t cap = 4096, len = 0;
  int read_err = 0;
  char *text = malloc(cap);
  for (;;) {
    if (!text) break;
    if (len + 1 == cap) {
      char *bigger = realloc(text, cap *= 2);
      if (!bigger) break;
      text = bigger;
    }
    ssize_t r = TW_REAL_FN(read)(fd, text + len, cap - len - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) read_err = errno;
    if (r <= 0) break;
    len += (size_t)r;
  }
  TW_REAL_FN(close)(fd);
  if (read_err) {
    free(text);
    snprintf(err, sizeof(err), "threadwatch: THREADWATCH_SUPPRESS: cannot read '%s': %s\n", path,
             strerror(read_err));
    goto die;
  }
  if (!text) {
    snprintf(err, sizeof(err), "threadwatch: THREADWATCH_SUPPRESS: out of memory reading '%s'\n",
             path);
    goto die;
  }
  text[len] = '\0';
  char why[200];
  if (tw_suppress_parse(&loaded, text, why, sizeof(why)) != 0) {
    free(text);
    snprintf(err, sizeof(err), "threadwatch: THREADWATCH_SUPPRESS: %s: %s\n", path, why);
    goto die;
  }
  free(text);
  return;
die:
  tw_msg_str(err);
  _exit(2);
}

const struct tw_suppressions *tw__suppressions(void) { return loaded; }
