/* Allocation-free buffered writer to an fd, %p expansion, safe opening of report files. */
#ifndef TW_OUT_H
#define TW_OUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct tw_out {
  int fd;
  int error;  /* first -errno a write hit, 0 if none */
  size_t len;
  char buf[TW_OUT_BUF_BYTES];
};

void tw_out_init(struct tw_out *o, int fd);
void tw_out_write(struct tw_out *o, const char *s, size_t n);
void tw_out_str(struct tw_out *o, const char *s);
void tw_out_fmt(struct tw_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal, quotes included, with every control and non-ASCII-safe byte escaped. */
void tw_out_json_str(struct tw_out *o, const char *s);
/* Writes out everything buffered (loops on EINTR and short writes). Returns 0 or -errno. */
int tw_out_flush(struct tw_out *o);

/* write(2) of all n bytes, looping on EINTR and short writes. Returns 0 or -errno. */
int tw__write_all(int fd, const char *p, size_t n);

/* Opens a report file for appending: created 0644 if missing, never through a symlink (O_NOFOLLOW),
 * close-on-exec. Returns the fd or -errno. */
int tw__open_report_file(const char *path);

#endif
