/* The watched ranges and the hardware pieces they are cut into: shared by the trap side
 * (race/trap.h and its files) and the report side (race.c). */
#ifndef TW_RACE_STATE_H
#define TW_RACE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "race/hb.h"

/* x86-64 has four debug registers (DR0-DR3) per thread; each watches 1, 2, 4 or 8 aligned bytes.
 * A range is cut into such pieces, one register each. */
#define TW_RACE_DEBUG_REGS 4

/* Ranges watched at once (each needs at least one of the four registers: a bound that never binds). */
#define TW_RACE_MAX_RANGES 16

/* Label of a range: the symbol name it was asked for by, or threadwatch_watch()'s label. */
#define TW_RACE_LABEL 64

/* A breakpoint's sig_data (si_perf_data of its SIGTRAP): this magic in bits 16-63 says it is ours,
 * then the piece's generation (bits 8-15, modulo 256: a trap from before an unwatch is dropped) and
 * the piece (bits 0-7). */
#define TW_RACE_SIG_MAGIC 0x7477726163650000ull /* "twrace" */

static inline uint64_t tw_race_sig_data(unsigned piece, unsigned gen) {
  return TW_RACE_SIG_MAGIC | (uint64_t)(gen & 0xff) << 8 | (piece & 0xff);
}
/* Whether `data` is one of ours for piece *piece with generation (mod 256) *gen. */
static inline bool tw_race_sig_parse(uint64_t data, unsigned *piece, unsigned *gen) {
  if ((data & ~0xffffull) != TW_RACE_SIG_MAGIC) return false;
  *piece = (unsigned)(data & 0xff);
  *gen = (unsigned)((data >> 8) & 0xff);
  return true;
}

enum tw_race_range_state { TW_RR_FREE = 0, TW_RR_WATCHED = 1 };

struct tw_race_range {
  int state;              /* enum tw_race_range_state; written under the watch lock */
  uintptr_t addr;
  size_t len;
  char label[TW_RACE_LABEL];
};

struct tw_race_piece {
  _Atomic int armed;      /* 1 while its breakpoints exist; the trap handler checks it */
  uint16_t gen;           /* bumped at each arming: a stale trap (after unwatch) is dropped */
  uint16_t range;
  uintptr_t addr;
  uint32_t len;           /* 1, 2, 4 or 8, aligned */
  struct tw_race_shadow shadow;
  int *fds;               /* the perf events (one per thread alive when it was armed) */
  int nfds, capfds;
};

extern struct tw_race_range tw__race_ranges[TW_RACE_MAX_RANGES];
extern struct tw_race_piece tw__race_pieces[TW_RACE_DEBUG_REGS];

/* One item of THREADWATCH_WATCH: a symbol name, or (sym empty) an address range. */
struct tw_race_item {
  char sym[128];
  uintptr_t addr;
  size_t len;
};

/* Parses THREADWATCH_WATCH's value into at most `max` items. Returns the count, or -EINVAL after
 * writing one line to err[n] that names the variable, the bad item and the accepted form. */
int tw__race_parse_spec(const char *spec, struct tw_race_item *items, int max, char *err,
                        size_t n);

/* Cuts [addr, addr + len) into the aligned 1/2/4/8-byte pieces a debug register can watch, largest
 * first, into pa/pl (at most max). Returns the number of pieces the range needs (may exceed
 * max). */
int tw__race_pieces_of(uintptr_t addr, size_t len, uintptr_t *pa, uint32_t *pl, int max);

/* "counter (0x55d0c0a04040, 8 bytes)", "stats+8 (0x..., 8 of its 24 bytes)" for a piece of range
 * `range`; reporter side (may symbolize). */
void tw__race_describe(uint32_t range, uintptr_t addr, uint32_t len, char *out, size_t n);

/* Instructions whose read/write the decoder got differently from the page fault (page emulation
 * only; a test checks it stays 0). Written by the trap side, read by the reporter. */
extern _Atomic uint64_t tw__race_decoder_disagreed;

#endif
