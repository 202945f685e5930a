/* Allocation-free buffered writer to an fd, %p expansion, safe opening of report files. */
#ifndef TW_OUT_H
#define TW_OUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/limits.h"

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
/* A JSON string literal, quotes included: control bytes escaped, valid UTF-8 kept, any other byte
 * escaped as \u00XX (the output is valid UTF-8 whatever the input). */
void tw_out_json_str(struct tw_out *o, const char *s);
/* Writes out everything buffered (loops on EINTR and short writes). Returns 0 or -errno. */
int tw_out_flush(struct tw_out *o);

/* write(2) of all n bytes, looping on EINTR and short writes. Returns 0 or -errno. */
int tw__write_all(int fd, const char *p, size_t n);

/* The tool's own fd operations: always the real calls, never the application's hooks (an fd of
 * ours must not be tracked, and close must not untrack one of the application's). */
int tw__close(int fd);
/* Moves fd to TW_TOOL_FD_BASE or above, close-on-exec, closing the original: the application's own
 * opens then get the numbers they would get without us. Returns the new fd, or fd itself when no
 * such number is allowed. */
int tw__fd_move_high(int fd);

/* Opens a report file for appending (*created: this call made it), so that it can never block, be someone else's, or land in
 * the program's way: created 0644 if missing; never through a symlink as the last component, nor
 * through a directory symlink planted in a world-writable sticky directory by another user;
 * refused unless it is a regular file of this process's uid with one link (a FIFO, a device, a
 * file another user pre-created); opened without waiting (O_NONBLOCK while opening), close-on-exec,
 * moved to TW_TOOL_FD_BASE or above. Returns the fd, or -errno with the reason in why[n]. */
int tw__open_report_file(const char *path, char *why, size_t n, bool *created);

/* Which file an fd is, to tell later whether the number still names it. */
struct tw_file_id {
  bool valid;
  dev_t dev;
  ino_t ino;
};
void tw__fd_id(int fd, struct tw_file_id *id);
bool tw__fd_same(int fd, const struct tw_file_id *id);

/* The program's stderr, as the tool writes to it: a copy made at initialisation (close-on-exec,
 * high), replaced when the program itself moves fd 2 with dup2/dup3 (tw__stderr_follow, from the
 * hooks), kept when the program closes fd 2. -1 when the program started without stderr. */
void tw__stderr_init(void);
void tw__stderr_follow(void);
int tw__stderr_fd(void);

#endif
