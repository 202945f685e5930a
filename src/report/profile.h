/* A profile as plain data, like Go's: sample types, and samples that each carry a stack, one value
 * per type and a few labels. The thread, block and mutex profiles are built into it
 * (report/profiles.h), and two writers render it: pprof's gzipped profile.proto (report/pprof.h)
 * and folded stacks (tw_profile_folded below). No logic beyond holding and growing the data. */
#ifndef TW_REPORT_PROFILE_H
#define TW_REPORT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/out.h"

/* Value columns of one profile: threads have one (count), block and mutex two (contentions, delay). */
#define TW_PROFILE_MAX_TYPES 2
/* Labels one sample may carry (the thread profile: state, call, object, name, thread, created). */
#define TW_PROFILE_MAX_LABELS 6

struct tw_profile_label {
  const char *key; /* a string literal */
  const char *str; /* interned in the profile (tw_profile_intern), or NULL for a number label */
  int64_t num;
  const char *unit; /* of a number label ("nanoseconds"), NULL for none */
};

struct tw_profile_sample {
  uint32_t stack;   /* stack depot id, innermost frame first; 0: none */
  const char *leaf; /* a pseudo frame added below the stack (interned), e.g. "[running]"; NULL none */
  int64_t values[TW_PROFILE_MAX_TYPES];
  uint8_t nlabels;
  struct tw_profile_label labels[TW_PROFILE_MAX_LABELS];
};

struct tw_profile_type {
  const char *type, *unit; /* pprof's ValueType: ("contentions", "count"), ("delay", "nanoseconds") */
};

struct tw_profile {
  const char *name; /* "threads", "block", "mutex": file names and messages */
  uint8_t ntypes;
  struct tw_profile_type types[TW_PROFILE_MAX_TYPES];
  struct tw_profile_type period_type;
  int64_t period;
  uint8_t default_type;   /* index of the type `go tool pprof` shows first */
  int64_t time_ns;        /* wall clock time of the profile (CLOCK_REALTIME ns) */
  int64_t duration_ns;    /* what it covers (block and mutex: since the process started) */
  const char *comment;    /* one line kept in the profile (interned), NULL for none */
  size_t n, cap;
  struct tw_profile_sample *samples;
  size_t nstrs, capstrs;
  char **strs; /* interned strings, freed with the profile */
  bool oom;    /* an allocation failed: samples or strings are missing */
};

/* An empty profile with the given name and value types (ntypes <= TW_PROFILE_MAX_TYPES). */
void tw_profile_init(struct tw_profile *p, const char *name, const struct tw_profile_type *types,
                     unsigned ntypes);
void tw_profile_free(struct tw_profile *p);

/* A copy of s owned by the profile (NULL when out of memory: p->oom is set). */
const char *tw_profile_intern(struct tw_profile *p, const char *s);

/* Appends a sample (copied) and returns it, or NULL when out of memory (p->oom is set). */
struct tw_profile_sample *tw_profile_add(struct tw_profile *p, const struct tw_profile_sample *s);

/* Adds a string label (the value interned) or a number label to sample s. False when it is full. */
bool tw_profile_label_str(struct tw_profile *p, struct tw_profile_sample *s, const char *key,
                          const char *value);
bool tw_profile_label_num(struct tw_profile_sample *s, const char *key, int64_t num,
                          const char *unit);

/* Index of the value type named `type` ("delay"), or -1. */
int tw_profile_type_index(const struct tw_profile *p, const char *type);

/* How a writer turns a pc into frames (innermost first; report/symbolize.h's tw_symbolize in the
 * library, a fake in unit tests). */
struct tw_frame;
typedef int (*tw_symbolize_fn)(uintptr_t pc, struct tw_frame *out, int max);

/* Folded stacks, for flamegraph.pl and speedscope: one line per distinct stack, its frames from the
 * root down to the leaf joined by ';', a space, then the sum of value column `value` over the
 * samples with that stack ("main;serve;lock_accounts 1234"). Inlined functions are frames of their
 * own; a ';' or a control byte in a name becomes '?'. Lines come in the order their stacks first
 * appear; samples whose value is 0 are left out. */
void tw_profile_folded(struct tw_out *o, const struct tw_profile *p, int value,
                       tw_symbolize_fn symbolize);

#endif
