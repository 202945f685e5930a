/* Options: the parsed THREADWATCH_* environment, generated from options.inc. */
#ifndef TW_OPTIONS_H
#define TW_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_OPT_STR_MAX 1024

enum tw_on_deadlock { TW_ON_DEADLOCK_REPORT = 0, TW_ON_DEADLOCK_ABORT = 1 };
enum tw_watch_mode { TW_WATCH_AUTO = 0, TW_WATCH_HW = 1, TW_WATCH_PAGE = 2 };

/* C type of each option type named in options.inc. */
#define TW_OPT_CTYPE_path     char
#define TW_OPT_CTYPE_output   char
#define TW_OPT_CTYPE_file     char
#define TW_OPT_CTYPE_list     char
#define TW_OPT_CTYPE_exitcode unsigned
#define TW_OPT_CTYPE_duration uint64_t
#define TW_OPT_CTYPE_count    unsigned
#define TW_OPT_CTYPE_deadlock int
#define TW_OPT_CTYPE_bool     bool
#define TW_OPT_CTYPE_failon   char
#define TW_OPT_CTYPE_options  char
#define TW_OPT_CTYPE_dir      char
#define TW_OPT_CTYPE_watchmode int
#define TW_OPT_CTYPE_profile  int
#define TW_OPT_DIM_path       [TW_OPT_STR_MAX]
#define TW_OPT_DIM_output     [TW_OPT_STR_MAX]
#define TW_OPT_DIM_file       [TW_OPT_STR_MAX]
#define TW_OPT_DIM_list       [TW_OPT_STR_MAX]
#define TW_OPT_DIM_exitcode
#define TW_OPT_DIM_duration
#define TW_OPT_DIM_count
#define TW_OPT_DIM_deadlock
#define TW_OPT_DIM_bool
#define TW_OPT_DIM_failon     [TW_OPT_STR_MAX]
#define TW_OPT_DIM_options    [TW_OPT_STR_MAX]
#define TW_OPT_DIM_dir        [TW_OPT_STR_MAX]
#define TW_OPT_DIM_watchmode
#define TW_OPT_DIM_profile

struct tw_options {
#define TW_OPTION(type, NAME, field, def, desc) TW_OPT_CTYPE_##type field TW_OPT_DIM_##type;
#include "base/options.inc"
#undef TW_OPTION
};

/* The options in force. Written once by tw__options_load() before any other thread of ours runs. */
extern struct tw_options tw__opt;

/* One typed parser per option type. Each returns 0 and fills *out, or -EINVAL when `s` does not parse.
 * `out` points to the option's field (a char[TW_OPT_STR_MAX] for output/path/file/list). */
int tw__parse_path(const char *s, void *out);
int tw__parse_list(const char *s, void *out);
int tw__parse_exitcode(const char *s, void *out);
int tw__parse_duration(const char *s, void *out);
int tw__parse_count(const char *s, void *out);
int tw__parse_deadlock(const char *s, void *out);
int tw__parse_bool(const char *s, void *out);
int tw__parse_failon(const char *s, void *out);
/* THREADWATCH_OPTIONS: checks the `name=value:name=value` syntax only (names and values are checked
 * item by item when the environment is read) and copies the string. */
int tw__parse_options(const char *s, void *out);
int tw__parse_watchmode(const char *s, void *out);
/* THREADWATCH_PROFILE: a comma list of `block` and `mutex` into bits (1: block, 2: mutex, as
 * runtime/contention.h's TW_PROF_*); empty is 0. */
int tw__parse_profile(const char *s, void *out);

/* Calls fn(name, value, arg) for each item of a THREADWATCH_OPTIONS string, in order: `name=value`
 * items separated by ':', a value in '...' or "..." may hold ':' (the quotes are not part of it).
 * Empty items (`::`, a leading or trailing ':') are skipped. name and value are NUL-terminated
 * copies, valid during the call. Stops at the first fn that returns non-zero and returns that.
 * Returns -EINVAL with the bad item in bad[n] when an item is not `name=value`, a quote is not
 * closed, or an item is longer than TW_OPT_STR_MAX. */
int tw__options_items(const char *s, int (*fn)(const char *name, const char *value, void *arg),
                      void *arg, char *bad, size_t n);

/* Reads every THREADWATCH_* variable from `envp` (NULL-terminated) into `o`, defaults first, then
 * the items of THREADWATCH_OPTIONS (names of the table in lower or upper case, without the prefix),
 * then the single variables, which win over an item of the same option.
 * Returns 0, or -EINVAL after writing one line to `err` (size n) naming the variable and the accepted
 * form. Unknown THREADWATCH_* names are written as warnings to `warn` (size wn, may hold several
 * lines) and do not fail. */
int tw__options_parse(struct tw_options *o, char *const *envp, char *err, size_t n, char *warn,
                      size_t wn);

/* Loads tw__opt from the process environment; on a bad value prints the error and _exit(2)s. */
void tw__options_load(void);

/* The option table entry named `name` (without the prefix, any case), as its upper-case name, or
 * NULL when there is none. */
const char *tw__options_find(const char *name);

/* The closest known option name to `name` (full THREADWATCH_ name), or NULL if none is near. */
const char *tw__options_closest(const char *name);

/* Expands %p in `tmpl` to `pid` into out[n]. Returns 0 or -ENAMETOOLONG. */
int tw__expand_pid(const char *tmpl, long pid, char *out, size_t n);

/* Iterates the table: for i in 0.., returns 0 and fills the pointers, or -1 past the end. */
int tw__options_entry(size_t i, const char **name, const char **type, const char **def,
                      const char **desc, const char **form);

#endif
