/* Allocation-free buffered writer: reports are formatted into a fixed buffer and written with write(2). */
#include "base/out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/real.h"

int tw__write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = TW_REAL_FN(write)(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int tw__close(int fd) { return TW_REAL_FN(close)(fd); }

int tw__fd_move_high(int fd) {
  int high = TW_REAL_FN(fcntl)(fd, F_DUPFD_CLOEXEC, TW_TOOL_FD_BASE);
  if (high < 0) return fd;
  TW_REAL_FN(close)(fd);
  return high;
}

void tw_out_init(struct tw_out *o, int fd) {
  o->fd = fd;
  o->error = 0;
  o->len = 0;
}

int tw_out_flush(struct tw_out *o) {
  if (o->len == 0) return o->error;
  int rc = o->fd >= 0 ? tw__write_all(o->fd, o->buf, o->len) : 0;
  if (rc && !o->error) o->error = rc;
  o->len = 0;
  return o->error;
}

void tw_out_write(struct tw_out *o, const char *s, size_t n) {
  while (n > 0) {
    size_t room = sizeof(o->buf) - o->len;
    if (room == 0) {
      tw_out_flush(o);
      room = sizeof(o->buf);
    }
    size_t k = n < room ? n : room;
    memcpy(o->buf + o->len, s, k);
    o->len += k;
    s += k;
    n -= k;
  }
}

void tw_out_str(struct tw_out *o, const char *s) { tw_out_write(o, s, strlen(s)); }

void tw_out_fmt(struct tw_out *o, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n < 0) return;
  tw_out_write(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void tw_out_json_str(struct tw_out *o, const char *s) {
  static const char hex[] = "0123456789abcdef";
  tw_out_write(o, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': tw_out_write(o, "\\\"", 2); break;
      case '\\': tw_out_write(o, "\\\\", 2); break;
      case '\n': tw_out_write(o, "\\n", 2); break;
      case '\r': tw_out_write(o, "\\r", 2); break;
      case '\t': tw_out_write(o, "\\t", 2); break;
      default:
        if (*p < 0x20 || *p == 0x7f || *p >= 0x80) {
          /* Bytes are not assumed to be UTF-8 (thread names, paths): escape them as code points
           * U+0080..U+00FF so every line stays valid JSON. */
          char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
          tw_out_write(o, e, sizeof(e));
        } else {
          tw_out_write(o, (const char *)p, 1);
        }
    }
  }
  tw_out_write(o, "\"", 1);
}

int tw__open_report_file(const char *path) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  /* Out of the program's way: opened on the lowest free number, it would take the place of a
   * stdout or stderr the program closed, or shift the numbers of its next opens. */
  return fd < 0 ? -errno : tw__fd_move_high(fd);
}
