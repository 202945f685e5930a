/* A report as strings, for the formats that want frames as plain data (SARIF): the in-process
 * SARIF writer (report/sarif.c) fills it from a struct tw_report and the symbolizer, the CLI
 * (`threadwatch report`, tools/report_cmd.c) from a saved JSON line. One renderer (view.c) writes
 * SARIF 2.1.0 from it for both, so a SARIF file made while the program runs and one rebuilt later
 * from the JSON Lines say the same. view.c is also compiled into the CLI: it uses only base/out.h and
 * report/rules.h. */
#ifndef TW_REPORT_VIEW_H
#define TW_REPORT_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/out.h"

/* Bounds of a view; what does not fit is left out (the JSON Lines keep everything). */
#define TW_VIEW_MAX_STACKS 64
#define TW_VIEW_MAX_FLOWS 24
#define TW_VIEW_STACK_FRAMES 24 /* innermost frames kept per stack */
#define TW_VIEW_MAX_FRAMES (TW_VIEW_MAX_STACKS * TW_VIEW_STACK_FRAMES)
#define TW_VIEW_MSG 192

struct tw_view_frame {
  const char *function; /* "??" when unknown */
  const char *file;     /* NULL or "" without debug info */
  int line;             /* 0: unknown */
  const char *module;
};

/* One stack of a report: where a thread is, where it was created, an edge's acquisition. */
struct tw_view_stack {
  char message[TW_VIEW_MSG]; /* "T2 blocked in read() on pipe fd 3", "T2 created by T1" */
  int flow;                  /* the code flow step it is (index into flow_message), or -1 */
  uint32_t nframes;
  const struct tw_view_frame *frames; /* innermost first */
};

struct tw_view {
  const char *kind, *what, *severity, *message, *fingerprint;
  uint32_t count; /* threads the report stands for */
  uint32_t nstacks;
  struct tw_view_stack stacks[TW_VIEW_MAX_STACKS]; /* in the order locations are looked for */
  uint32_t nflows;                                 /* thread flows of the one code flow */
  char flow_message[TW_VIEW_MAX_FLOWS][TW_VIEW_MSG];
};

/* Whether a frame is the program's own code: not a system library (a module under /lib*, /usr/lib*),
 * not code inlined from /usr/include, not an unknown module, not a sanitizer runtime's interceptor
 * linked into the executable (function NULL: not looked at). The fingerprint, SARIF locations,
 * JUnit test-case names and generated suppressions use these frames. */
bool tw_frame_is_program(const char *module, const char *file, const char *function);

/* SARIF 2.1.0: a document is tw_sarif_begin, results separated by ",", then TW_SARIF_TRAILER.
 * source_root (NULL or "": none) makes locations under it relative, with uriBaseId SRCROOT. */
#define TW_SARIF_TRAILER "]}]}\n"
void tw_sarif_begin(struct tw_out *o, const char *version, const char *source_root);
void tw_sarif_result(struct tw_out *o, const struct tw_view *v, const char *source_root);

/* A file path as a URI reference into out[n]: relative to source_root (with *based set) when it is
 * under it, a file:// URI when absolute, else the relative path; bytes outside RFC 3986's
 * unreserved set and '/' are percent-encoded. */
void tw_sarif_uri(char *out, size_t n, const char *path, const char *source_root, bool *based);

#endif
