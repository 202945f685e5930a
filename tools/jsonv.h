/* A small JSON reader for the CLI: one document (a JSON line) into a tree of values. Strings are
 * decoded to UTF-8 (\u escapes and surrogate pairs included); numbers are kept as doubles. Enough
 * for reading threadwatch's own JSON Lines back (`threadwatch report`, `threadwatch suppress`). */
#ifndef TW_TOOLS_JSONV_H
#define TW_TOOLS_JSONV_H

#include <stdbool.h>
#include <stddef.h>

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
  enum jv_type type;
  bool b;
  double num;
  char *str;        /* JV_STR: NUL-terminated (a \u0000 ends it early) */
  size_t n;         /* JV_ARR, JV_OBJ: items */
  struct jv *items; /* JV_ARR, JV_OBJ: values */
  char **keys;      /* JV_OBJ: keys */
};

/* Parses text (NUL-terminated, surrounding blanks allowed) into *out. Returns 0, or -1 with a
 * reason and the byte offset in err[n]. */
int jv_parse(const char *text, struct jv *out, char *err, size_t n);
void jv_free(struct jv *v);

/* Member `key` of an object, NULL when absent or v is not an object. */
const struct jv *jv_get(const struct jv *v, const char *key);
/* Member `key` as a string / number / array; `def` (NULL, or 0) when absent or of another type. */
const char *jv_str(const struct jv *v, const char *key, const char *def);
double jv_num(const struct jv *v, const char *key, double def);
const struct jv *jv_arr(const struct jv *v, const char *key);
/* Item i of an array (NULL past the end). */
const struct jv *jv_at(const struct jv *v, size_t i);

#endif
