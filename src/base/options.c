/* Reads the THREADWATCH_* environment: typed parsers, defaults, "did you mean", exit 2 on bad values. */
#include "base/options.h"

#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/msg.h"
#include "base/tw.h"

struct tw_options tw__opt;

#define TW_PREFIX "THREADWATCH_"

struct tw_opt_type {
  const char *name;
  int (*parse)(const char *s, void *out);
  const char *form; /* the accepted form, quoted in error messages and the option table */
};

static const struct tw_opt_type tw_types[] = {
    {"output", tw__parse_path, "`stderr`, `stdout` or a file path (`%p` = pid)"},
    {"path", tw__parse_path, "a file path (`%p` = pid); empty is off"},
    {"file", tw__parse_path, "the path of a readable file; empty is off"},
    {"dir", tw__parse_path, "a directory path; empty is off"},
    {"list", tw__parse_list, "a comma-separated list"},
    {"exitcode", tw__parse_exitcode, "an integer from 0 to 255"},
    {"duration", tw__parse_duration, "a duration like 500ms, 10s, 30m, 1h (or 0)"},
    {"count", tw__parse_count, "an integer from 1 to 100000000"},
    {"deadlock", tw__parse_deadlock, "`report` or `abort`"},
    {"bool", tw__parse_bool, "`0` or `1`"},
    {"watchmode", tw__parse_watchmode, "`auto`, `hw` or `page`"},
    {"profile", tw__parse_profile, "`block`, `mutex`, `block,mutex`, or empty"},
    {"failon", tw__parse_failon,
     "a comma list of `error`, `warning`, `all`, `none`, report kinds (`stall`) or kind/what "
     "(`thread-leak/blocked`)"},
    {"options", tw__parse_options,
     "`name=value` items separated by `:` (names of this table in lower case; a value in quotes "
     "may hold `:`)"},
};

struct tw_opt_desc {
  const char *name; /* without the prefix */
  const char *type;
  size_t offset;
  const char *def;
  const char *desc;
};

static const struct tw_opt_desc tw_table[] = {
#define TW_OPTION(type, NAME, field, def, desc) \
  {#NAME, #type, offsetof(struct tw_options, field), def, desc},
#include "base/options.inc"
#undef TW_OPTION
};

static const struct tw_opt_type *type_of(const char *name) {
  for (size_t i = 0; i < TW_ARRAY_LEN(tw_types); i++)
    if (strcmp(tw_types[i].name, name) == 0) return &tw_types[i];
  tw_check(!"unknown option type in options.inc");
}

static int copy_str(const char *s, void *out) {
  size_t len = strlen(s);
  if (len >= TW_OPT_STR_MAX) return -EINVAL;
  memcpy(out, s, len + 1);
  return 0;
}

int tw__parse_path(const char *s, void *out) {
  if (strchr(s, '\n')) return -EINVAL;
  return copy_str(s, out);
}

int tw__parse_list(const char *s, void *out) {
  /* Empty items (",,", leading or trailing comma) are a mistake worth a clear error. */
  if (*s) {
    if (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,")) return -EINVAL;
  }
  return copy_str(s, out);
}

int tw__parse_watchmode(const char *s, void *out) {
  if (!strcmp(s, "auto")) *(int *)out = TW_WATCH_AUTO;
  else if (!strcmp(s, "hw")) *(int *)out = TW_WATCH_HW;
  else if (!strcmp(s, "page")) *(int *)out = TW_WATCH_PAGE;
  else return -EINVAL;
  return 0;
}

int tw__parse_profile(const char *s, void *out) {
  int bits = 0;
  size_t len = strlen(s);
  if (len >= TW_OPT_STR_MAX || (len && (s[0] == ',' || s[len - 1] == ',')) || strstr(s, ",,"))
    return -EINVAL;
  char copy[TW_OPT_STR_MAX], *save = NULL;
  memcpy(copy, s, len + 1);
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (!strcmp(w, "block")) bits |= 1;
    else if (!strcmp(w, "mutex")) bits |= 2;
    else return -EINVAL;
  }
  *(int *)out = bits;
  return 0;
}

/* The report kinds (docs/report-format.md): the words THREADWATCH_FAIL_ON may name. */
static const char *const report_kinds[] = {"thread-leak", "thread-surge", "thread-growth",
                                           "lock-order-cycle", "deadlock", "stall", "misuse",
                                           "race-suspect"};

int tw__parse_failon(const char *s, void *out) {
  if (!*s || tw__parse_list(s, out) != 0) return -EINVAL;
  char copy[TW_OPT_STR_MAX], *save = NULL;
  snprintf(copy, sizeof(copy), "%s", s);
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (!strcmp(w, "error") || !strcmp(w, "warning") || !strcmp(w, "all") || !strcmp(w, "none"))
      continue;
    char *slash = strchr(w, '/');
    if (slash) *slash = '\0';
    bool known = false;
    for (size_t i = 0; i < TW_ARRAY_LEN(report_kinds); i++) known |= strcmp(w, report_kinds[i]) == 0;
    if (!known || (slash && !slash[1])) return -EINVAL;
  }
  return 0;
}

int tw__options_items(const char *s, int (*fn)(const char *name, const char *value, void *arg),
                      void *arg, char *bad, size_t n) {
  const char *p = s;
  while (*p) {
    if (*p == ':') {
      p++;
      continue;
    }
    const char *start = p;
    char item[TW_OPT_STR_MAX + 8];
    size_t len = 0;
    const char *eq = NULL;
    bool quoted_ok = true;
    /* The name, up to '='. */
    while (*p && *p != ':' && *p != '=') p++;
    if (*p == '=') eq = p;
    if (eq) {
      len = (size_t)(eq - start);
      if (len >= sizeof(item) - 1) len = sizeof(item) - 2;
      memcpy(item, start, len);
      item[len++] = '\0';
      p++;
      char quote = (*p == '\'' || *p == '"') ? *p : 0;
      if (quote) {
        p++;
        while (*p && *p != quote && len + 1 < sizeof(item)) item[len++] = *p++;
        if (*p != quote) quoted_ok = false;
        else p++;
        if (*p && *p != ':') quoted_ok = false; /* text after the closing quote */
      } else {
        while (*p && *p != ':' && len + 1 < sizeof(item)) item[len++] = *p++;
        if (*p && *p != ':') quoted_ok = false; /* longer than an item may be */
      }
      item[len] = '\0';
    }
    if (!eq || !quoted_ok || len + 1 >= sizeof(item) || item[0] == '\0') {
      const char *end = start;
      while (*end && *end != ':') end++;
      if (n) snprintf(bad, n, "%.*s", (int)(end - start), start);
      return -EINVAL;
    }
    int rc = fn(item, item + strlen(item) + 1, arg);
    if (rc) return rc;
  }
  return 0;
}

static int syntax_only(const char *name, const char *value, void *arg) {
  (void)name, (void)value, (void)arg;
  return 0;
}

int tw__parse_options(const char *s, void *out) {
  if (tw__options_items(s, syntax_only, NULL, NULL, 0) != 0) return -EINVAL;
  return copy_str(s, out);
}

/* Parses a whole non-negative decimal integer no larger than max. */
static int parse_uint(const char *s, unsigned long long max, unsigned long long *v) {
  if (!isdigit((unsigned char)*s)) return -EINVAL;
  unsigned long long x = 0;
  for (; *s; s++) {
    if (!isdigit((unsigned char)*s)) return -EINVAL;
    x = x * 10 + (unsigned)(*s - '0');
    if (x > max) return -EINVAL;
  }
  *v = x;
  return 0;
}

int tw__parse_exitcode(const char *s, void *out) {
  unsigned long long v;
  if (parse_uint(s, 255, &v) != 0) return -EINVAL;
  *(unsigned *)out = (unsigned)v;
  return 0;
}

int tw__parse_count(const char *s, void *out) {
  unsigned long long v;
  if (parse_uint(s, 100000000ull, &v) != 0 || v == 0) return -EINVAL;
  *(unsigned *)out = (unsigned)v;
  return 0;
}

int tw__parse_duration(const char *s, void *out) {
  static const struct { const char *unit; uint64_t ns; } units[] = {
      {"ns", 1ull}, {"us", 1000ull}, {"ms", 1000000ull}, {"s", 1000000000ull},
      {"m", 60000000000ull}, {"h", 3600000000000ull},
  };
  if (strcmp(s, "0") == 0) {
    *(uint64_t *)out = 0;
    return 0;
  }
  const char *p = s;
  uint64_t whole = 0, frac = 0, frac_div = 1;
  if (!isdigit((unsigned char)*p)) return -EINVAL;
  for (; isdigit((unsigned char)*p); p++) {
    whole = whole * 10 + (uint64_t)(*p - '0');
    if (whole > 1000000000ull) return -EINVAL;
  }
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p)) return -EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
      if (frac_div < 1000000000ull) {
        frac = frac * 10 + (uint64_t)(*p - '0');
        frac_div *= 10;
      }
    }
  }
  for (size_t i = 0; i < TW_ARRAY_LEN(units); i++) {
    if (strcmp(p, units[i].unit) == 0) {
      /* frac * unit can overflow 64 bits (9 digits times an hour in ns). Every unit from 1 us up
       * is a multiple of any power of ten up to its own size, so divide first where it is exact. */
      uint64_t frac_ns = units[i].ns >= frac_div ? frac * (units[i].ns / frac_div)
                                                 : frac * units[i].ns / frac_div;
      uint64_t ns = whole * units[i].ns + frac_ns;
      if (whole && ns / whole < units[i].ns / 2) return -EINVAL; /* overflow */
      *(uint64_t *)out = ns;
      return 0;
    }
  }
  return -EINVAL;
}

int tw__parse_deadlock(const char *s, void *out) {
  if (strcmp(s, "report") == 0) *(int *)out = TW_ON_DEADLOCK_REPORT;
  else if (strcmp(s, "abort") == 0) *(int *)out = TW_ON_DEADLOCK_ABORT;
  else return -EINVAL;
  return 0;
}

int tw__parse_bool(const char *s, void *out) {
  if (strcmp(s, "1") == 0) *(bool *)out = true;
  else if (strcmp(s, "0") == 0) *(bool *)out = false;
  else return -EINVAL;
  return 0;
}

static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 99;
  size_t row[64];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t best = diag + cost;
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

const char *tw__options_closest(const char *name) {
  static char best_name[64];
  if (strncmp(name, TW_PREFIX, strlen(TW_PREFIX)) != 0) return NULL;
  const char *suffix = name + strlen(TW_PREFIX);
  size_t best = 99;
  const char *pick = NULL;
  for (size_t i = 0; i < TW_ARRAY_LEN(tw_table); i++) {
    size_t d = edit_distance(suffix, tw_table[i].name);
    if (d < best) {
      best = d;
      pick = tw_table[i].name;
    }
  }
  /* Near means: at most a third of the name changed (typos, a missing or extra letter). */
  if (!pick || best > 1 + strlen(pick) / 3) return NULL;
  snprintf(best_name, sizeof(best_name), TW_PREFIX "%s", pick);
  return best_name;
}

const char *tw__options_find(const char *name) {
  for (size_t i = 0; i < TW_ARRAY_LEN(tw_table); i++)
    if (strcasecmp(name, tw_table[i].name) == 0) return tw_table[i].name;
  return NULL;
}

static const struct tw_opt_desc *find_desc(const char *name) {
  for (size_t i = 0; i < TW_ARRAY_LEN(tw_table); i++)
    if (strcmp(name, tw_table[i].name) == 0) return &tw_table[i];
  return NULL;
}

/* Appends one printf-formatted line to the warnings. */
struct warnings {
  char *buf;
  size_t size, len;
};
static void warn_line(struct warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn_line(struct warnings *w, const char *fmt, ...) {
  if (!w->size) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(w->buf + w->len, w->size - w->len, fmt, ap);
  va_end(ap);
  if (k > 0 && (size_t)k < w->size - w->len) w->len += (size_t)k;
  else w->buf[w->len] = '\0'; /* a line that does not fit is dropped whole */
}

/* One value for the option d: 0, or -EINVAL with the error line in err. `what` is how the error
 * names where it came from: "THREADWATCH_STALL" or "THREADWATCH_OPTIONS: stall". */
static int set_value(struct tw_options *o, const struct tw_opt_desc *d, const char *what,
                     const char *value, char *err, size_t n) {
  const struct tw_opt_type *t = type_of(d->type);
  if (t->parse(value, (char *)o + d->offset) == 0) return 0;
  char quoted[96]; /* the value as given, escaped and cut: the accepted form always fits */
  tw_msg_quote(quoted, sizeof(quoted), value);
  snprintf(err, n, "threadwatch: %s=%s is not valid: expected %s", what, quoted, t->form);
  return -EINVAL;
}

struct item_ctx {
  struct tw_options *o;
  struct warnings *w;
  char *err;
  size_t n;
};

/* One item of THREADWATCH_OPTIONS. */
static int apply_item(const char *name, const char *value, void *arg) {
  struct item_ctx *c = arg;
  const char *canon = tw__options_find(name);
  char what[160];
  if (!canon || strcmp(canon, "OPTIONS") == 0) {
    char full[160], lower[64] = "";
    snprintf(full, sizeof(full), TW_PREFIX "%s", name);
    for (char *q = full + strlen(TW_PREFIX); *q; q++) *q = (char)toupper((unsigned char)*q);
    const char *near = canon ? NULL : tw__options_closest(full);
    if (near) {
      size_t k = 0;
      for (const char *q = near + strlen(TW_PREFIX); *q && k + 1 < sizeof(lower); q++)
        lower[k++] = (char)tolower((unsigned char)*q);
      lower[k] = '\0';
    }
    char quoted[96];
    tw_msg_quote(quoted, sizeof(quoted), name);
    warn_line(c->w, "threadwatch: warning: THREADWATCH_OPTIONS: %s %s ignored%s%s%s\n",
              canon ? "a nested" : "unknown option", quoted, near ? "; did you mean " : "",
              lower, near ? "?" : "");
    return 0;
  }
  char lower[64];
  size_t k = 0;
  for (const char *q = canon; *q && k + 1 < sizeof(lower); q++) lower[k++] = (char)tolower((unsigned char)*q);
  lower[k] = '\0';
  snprintf(what, sizeof(what), "THREADWATCH_OPTIONS: %s", lower);
  return set_value(c->o, find_desc(canon), what, value, c->err, c->n);
}

int tw__options_parse(struct tw_options *o, char *const *envp, char *err, size_t n, char *warn,
                      size_t wn) {
  memset(o, 0, sizeof(*o));
  for (size_t i = 0; i < TW_ARRAY_LEN(tw_table); i++) {
    int rc = type_of(tw_table[i].type)->parse(tw_table[i].def, (char *)o + tw_table[i].offset);
    tw_check(rc == 0); /* a default that does not parse is a bug in options.inc */
  }
  if (wn) warn[0] = '\0';
  struct warnings w = {warn, wn, 0};
  /* Two passes: THREADWATCH_OPTIONS first (the last one given, as with setenv), then every single
   * variable, so that a variable of its own wins over an item of the string. */
  const char *options = NULL;
  for (char *const *e = envp; e && *e; e++)
    if (strncmp(*e, TW_PREFIX "OPTIONS=", strlen(TW_PREFIX "OPTIONS=")) == 0)
      options = *e + strlen(TW_PREFIX "OPTIONS=");
  if (options) {
    char bad[TW_OPT_STR_MAX + 8] = "";
    struct item_ctx c = {o, &w, err, n};
    int rc = copy_str(options, o->options);
    if (rc == 0) rc = tw__options_items(options, apply_item, &c, bad, sizeof(bad));
    else snprintf(bad, sizeof(bad), "%s", options);
    if (rc != 0 && bad[0] != '\0') { /* the syntax (a value's error is in err already) */
      char quoted[96];
      tw_msg_quote(quoted, sizeof(quoted), bad);
      snprintf(err, n, "threadwatch: THREADWATCH_OPTIONS: %s is not valid: expected %s", quoted,
               type_of("options")->form);
    }
    if (rc) return -EINVAL;
  }
  for (char *const *e = envp; e && *e; e++) {
    if (strncmp(*e, TW_PREFIX, strlen(TW_PREFIX)) != 0) continue;
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    char name[128];
    size_t nl = (size_t)(eq - *e);
    if (nl >= sizeof(name)) nl = sizeof(name) - 1;
    memcpy(name, *e, nl);
    name[nl] = '\0';
    const char *value = eq + 1;
    const struct tw_opt_desc *d = find_desc(name + strlen(TW_PREFIX));
    if (!d) {
      const char *near = tw__options_closest(name);
      warn_line(&w, "threadwatch: warning: unknown variable %s ignored%s%s%s\n", name,
                near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
      continue;
    }
    if (d->offset == offsetof(struct tw_options, options)) continue; /* read above */
    if (set_value(o, d, name, value, err, n) != 0) return -EINVAL;
  }
  return 0;
}

void tw__options_load(void) {
  extern char **environ;
  char err[512], warn[1024];
  int rc = tw__options_parse(&tw__opt, environ, err, sizeof(err), warn, sizeof(warn));
  for (char *line = warn, *nl; *line; line = nl + 1) { /* one message per warning line */
    nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    tw_msg_str(line);
    if (!nl) break;
  }
  if (rc != 0) {
    tw_msg_str(err);
    _exit(2);
  }
}

int tw__expand_pid(const char *tmpl, long pid, char *out, size_t n) {
  if (n == 0) return -ENAMETOOLONG;
  size_t o = 0;
  for (const char *p = tmpl; *p; p++) {
    char num[24];
    const char *piece = p;
    size_t len = 1;
    if (p[0] == '%' && p[1] == 'p') {
      len = (size_t)snprintf(num, sizeof(num), "%ld", pid);
      piece = num;
      p++;
    }
    if (o + len >= n) return -ENAMETOOLONG;
    memcpy(out + o, piece, len);
    o += len;
  }
  out[o] = '\0';
  return 0;
}

int tw__options_entry(size_t i, const char **name, const char **type, const char **def,
                      const char **desc, const char **form) {
  if (i >= TW_ARRAY_LEN(tw_table)) return -1;
  *name = tw_table[i].name;
  *type = tw_table[i].type;
  *def = tw_table[i].def;
  *desc = tw_table[i].desc;
  *form = type_of(tw_table[i].type)->form;
  return 0;
}
