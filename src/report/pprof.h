/* The pprof writer: a profile (report/profile.h) as pprof's profile.proto, gzipped, as Go's
 * runtime/pprof writes it, for `go tool pprof` (-top, -traces, -base, -http flame graphs).
 * The encoding is written by hand (varints and length-delimited fields: nothing else is needed) from
 * github.com/google/pprof/proto/profile.proto: the string table (index 0 is ""), sample types,
 * samples with their location ids (leaf first), values and labels; locations (one per distinct pc,
 * with its whole inline chain as lines, innermost first), functions (name, file), mappings (the
 * executable mappings the locations fall in, with file offsets and GNU build-ids). */
#ifndef TW_REPORT_PPROF_H
#define TW_REPORT_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "base/out.h"
#include "report/profile.h"

/* One mapping of the process: [start, limit) maps file `file` from `offset`. */
struct tw_pprof_mapping {
  uintptr_t start, limit;
  uint64_t offset;
  const char *file;
};

/* Where the writer gets symbols and mappings from. */
struct tw_pprof_env {
  tw_symbolize_fn symbolize;
  const struct tw_pprof_mapping *maps; /* sorted by start, not overlapping */
  size_t nmaps;
};

/* The profile as an uncompressed profile.proto message in a malloc'd buffer (*out, *len).
 * Returns 0 or -ENOMEM. */
int tw_pprof_encode(const struct tw_profile *p, const struct tw_pprof_env *env, uint8_t **out,
                    size_t *len);

/* in[n] gzipped (RFC 1952, what `go tool pprof` reads) into a malloc'd buffer. 0 or -ENOMEM. */
int tw_pprof_gzip(const uint8_t *in, size_t n, uint8_t **out, size_t *len);

/* This process's executable mappings (/proc/self/maps), sorted, in a malloc'd array whose file
 * names live in the same block: free(*maps) frees all. 0 or -errno. */
int tw_pprof_self_maps(struct tw_pprof_mapping **maps, size_t *n);

/* The same for another process (`threadwatch attach`): /proc/TID/maps, `tid` a live thread of it
 * (its main thread may have left). The library never calls it. */
int tw_pprof_proc_maps(int tid, struct tw_pprof_mapping **maps, size_t *n);

/* The profile of this process, symbolized here and gzipped, written to o. 0 or -errno. */
int tw_pprof_write(struct tw_out *o, const struct tw_profile *p);

#endif
