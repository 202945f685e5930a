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
};

#define TW_MAX_INLINE 8

/* Symbolizes a return address (the call site pc - 1 is looked up) into its chain of frames,
 * innermost first: functions inlined at that pc, then the function that contains them. Returns the
 * count (at least 1). Strings stay valid until tw_symbolize_reset(). */
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

/* Forgets cached modules and results (new libraries loaded, after fork). */
void tw_symbolize_reset(void);

#endif
