/* pc -> function, file, line, module with elfutils' libdw. Reporter side only (analysis lock held). */
#ifndef TW_SYMBOLIZE_H
#define TW_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_frame {
  uintptr_t pc;
  int inlined;          /* 1: this function was inlined into the next frame (same pc) */
  const char *function; /* "??" when no symbol covers pc; C++ names demangled */
  const char *file;     /* NULL without debug info */
  int line;             /* 0 without debug info */
  const char *module;   /* path of the executable or library, "??" if unknown */
  uintptr_t module_offset; /* pc as an address of the module's file (pc minus the load bias): what
                            * `addr2line -e MODULE` takes; 0 when no module covers pc */
  const char *build_id; /* the module's GNU build-id in hex, NULL if it has none or is unknown */
};

/* The most frames one pc can have: a whole inline chain is walked, and a longer one is cut by
 * dropping inner frames from system headers first, then the innermost; the function that contains
 * the pc (the outermost frame) is always kept. std::async inlines 11 frames at one call with g++. */
#define TW_MAX_INLINE 32

/* Symbolizes a return address (the call site pc - 1 is looked up) into its chain of frames,
 * innermost first: functions inlined at that pc, then the function that contains them. Returns the
 * count (at least 1). Strings are the cache's own copies: they stay valid until
 * tw_symbolize_reset(), whatever later calls do to libdw's session. */
int tw_symbolize(uintptr_t pc, struct tw_frame *out, int max);

/* The global variable that contains data address `addr`, as "name" or "name+OFFSET", into out[n].
 * Returns false (out = "") for heap and stack addresses or when no symbol covers it. */
bool tw_symbolize_data(uintptr_t addr, char *out, size_t n);

/* Starts the symbolization session now (at start-up, when running as root). */
void tw_symbolize_prepare(void);

/* Symbolizes the addresses of another process from now on (`threadwatch attach`: `tid` is a live
 * thread of it, whose /proc entry lists its mappings); 0 goes back to this process. Forgets the
 * cache. The library never calls it. */
void tw_symbolize_target(int tid);

/* Whether `file` (a frame's source file) is a system header (/usr/include/...): code inlined from
 * the C or C++ library, not the application's own. */
bool tw_symbolize_system_file(const char *file);

/* Forgets cached modules and results (new libraries loaded, after fork). */
void tw_symbolize_reset(void);

#endif
