/* A small JSON reader for the CLI (jsonv.h): recursive descent, depth-limited. */
#include "jsonv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct parser {
  const char *s, *p;
  char *err;
  size_t errn;
  int depth;
};

static int fail(struct parser *ps, const char *why) {
  if (ps->errn && !ps->err[0]) snprintf(ps->err, ps->errn, "%s at byte %zu", why, (size_t)(ps->p - ps->s));
  return -1;
}

static void blanks(struct parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static int hex4(const char *p, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    *v <<= 4;
    if (c >= '0' && c <= '9')
      *v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      *v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      *v |= (uint32_t)(c - 'A' + 10);
    else
      return -1;
  }
  return 0;
}

static size_t put_utf8(char *o, uint32_t c) {
  if (c < 0x80) return o[0] = (char)c, 1;
  if (c < 0x800) return o[0] = (char)(0xc0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3f)), 2;
  if (c < 0x10000) {
    o[0] = (char)(0xe0 | c >> 12);
    o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[2] = (char)(0x80 | (c & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | c >> 18);
  o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
  o[3] = (char)(0x80 | (c & 0x3f));
  return 4;
}

static int string(struct parser *ps, char **out) {
  if (*ps->p != '"') return fail(ps, "expected a string");
  ps->p++;
  const char *start = ps->p;
  /* The decoded string is never longer than its JSON text (an escape is at least as long as what
   * it stands for). */
  size_t cap = 8;
  for (const char *q = start; *q && *q != '"'; q++, cap++)
    if (*q == '\\' && q[1]) q++, cap++;
  char *o = malloc(cap), *w = o;
  if (!o) return fail(ps, "out of memory");
  for (;;) {
    unsigned char c = (unsigned char)*ps->p;
    if (c == '\0') return free(o), fail(ps, "unterminated string");
    if (c == '"') break;
    if (c < 0x20) return free(o), fail(ps, "control character in a string");
    if (c != '\\') {
      *w++ = (char)c;
      ps->p++;
      continue;
    }
    ps->p++;
    char e = *ps->p++;
    switch (e) {
      case '"': *w++ = '"'; break;
      case '\\': *w++ = '\\'; break;
      case '/': *w++ = '/'; break;
      case 'b': *w++ = '\b'; break;
      case 'f': *w++ = '\f'; break;
      case 'n': *w++ = '\n'; break;
      case 'r': *w++ = '\r'; break;
      case 't': *w++ = '\t'; break;
      case 'u': {
        uint32_t cp, lo;
        if (hex4(ps->p, &cp) != 0) return free(o), fail(ps, "bad \\u escape");
        ps->p += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && ps->p[0] == '\\' && ps->p[1] == 'u' &&
            hex4(ps->p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          ps->p += 6;
        } else if (cp >= 0xd800 && cp <= 0xdfff) {
          cp = 0xfffd; /* a lone surrogate: not a character */
        }
        w += put_utf8(w, cp);
        break;
      }
      default: return free(o), fail(ps, "bad escape");
    }
  }
  ps->p++;
  *w = '\0';
  *out = o;
  return 0;
}

static int value(struct parser *ps, struct jv *v);

static int push(struct jv *v, size_t *cap) {
  if (v->n < *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : 8;
  struct jv *items = realloc(v->items, ncap * sizeof(*items));
  if (!items) return -1;
  v->items = items;
  if (v->type == JV_OBJ) {
    char **keys = realloc(v->keys, ncap * sizeof(*keys));
    if (!keys) return -1;
    v->keys = keys;
  }
  *cap = ncap;
  return 0;
}

static int container(struct parser *ps, struct jv *v, bool object) {
  v->type = object ? JV_OBJ : JV_ARR;
  if (++ps->depth > MAX_DEPTH) return fail(ps, "nested too deeply");
  ps->p++;
  blanks(ps);
  size_t cap = 0;
  if (*ps->p == (object ? '}' : ']')) {
    ps->p++;
    ps->depth--;
    return 0;
  }
  for (;;) {
    if (push(v, &cap) != 0) return fail(ps, "out of memory");
    char *key = NULL;
    if (object) {
      blanks(ps);
      if (string(ps, &key) != 0) return -1;
      blanks(ps);
      if (*ps->p != ':') return free(key), fail(ps, "expected ':'");
      ps->p++;
      v->keys[v->n] = key;
    }
    memset(&v->items[v->n], 0, sizeof(v->items[0]));
    v->n++;
    if (value(ps, &v->items[v->n - 1]) != 0) return -1;
    blanks(ps);
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p == (object ? '}' : ']')) {
      ps->p++;
      ps->depth--;
      return 0;
    }
    return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static int value(struct parser *ps, struct jv *v) {
  blanks(ps);
  memset(v, 0, sizeof(*v));
  char c = *ps->p;
  if (c == '{') return container(ps, v, true);
  if (c == '[') return container(ps, v, false);
  if (c == '"') {
    v->type = JV_STR;
    return string(ps, &v->str);
  }
  if (!strncmp(ps->p, "true", 4)) return ps->p += 4, v->type = JV_BOOL, v->b = true, 0;
  if (!strncmp(ps->p, "false", 5)) return ps->p += 5, v->type = JV_BOOL, 0;
  if (!strncmp(ps->p, "null", 4)) return ps->p += 4, v->type = JV_NULL, 0;
  if (c == '-' || (c >= '0' && c <= '9')) {
    char *end;
    v->type = JV_NUM;
    v->num = strtod(ps->p, &end);
    if (end == ps->p) return fail(ps, "bad number");
    ps->p = end;
    return 0;
  }
  return fail(ps, c ? "unexpected character" : "unexpected end");
}

int jv_parse(const char *text, struct jv *out, char *err, size_t n) {
  struct parser ps = {text, text, err, n, 0};
  if (n) err[0] = '\0';
  if (value(&ps, out) != 0) {
    jv_free(out);
    return -1;
  }
  blanks(&ps);
  if (*ps.p) {
    fail(&ps, "text after the value");
    jv_free(out);
    return -1;
  }
  return 0;
}

void jv_free(struct jv *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n && v->items; i++) {
    jv_free(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->str);
  memset(v, 0, sizeof(*v));
}

const struct jv *jv_get(const struct jv *v, const char *key) {
  if (!v || v->type != JV_OBJ) return NULL;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->keys[i], key) == 0) return &v->items[i];
  return NULL;
}

const char *jv_str(const struct jv *v, const char *key, const char *def) {
  const struct jv *m = jv_get(v, key);
  return m && m->type == JV_STR ? m->str : def;
}

double jv_num(const struct jv *v, const char *key, double def) {
  const struct jv *m = jv_get(v, key);
  return m && m->type == JV_NUM ? m->num : def;
}

const struct jv *jv_arr(const struct jv *v, const char *key) {
  const struct jv *m = jv_get(v, key);
  return m && m->type == JV_ARR ? m : NULL;
}

const struct jv *jv_at(const struct jv *v, size_t i) {
  return v && v->type == JV_ARR && i < v->n ? &v->items[i] : NULL;
}
