/* The tool's own messages on stderr (msg.h). */
#include "base/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/limits.h"
#include "base/out.h"

static _Atomic unsigned said;

/* write(2) through the system call itself: the real write may not be resolved yet (a message about
 * resolving it), and a hook must never see the tool's own output. */
static void put(const char *p, size_t n) {
  int saved = errno;
  int fd = tw__stderr_fd(); /* the program's stderr, even if it closed or reused fd 2 */
  while (fd >= 0 && n > 0) {
    long w = syscall(SYS_write, fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      break;
    }
    p += w;
    n -= (size_t)w;
  }
  errno = saved;
}

/* One line: control bytes escaped, one newline at the end. */
static void emit(const char *text) {
  unsigned k = atomic_fetch_add(&said, 1);
  if (k > TW_MSG_MAX) return;
  if (k == TW_MSG_MAX) text = "threadwatch: further messages of threadwatch are not shown";
  char line[1024];
  size_t n = 0;
  const char *prefix = strncmp(text, "==", 2) == 0 || strncmp(text, "threadwatch", 11) == 0
                           ? "" : "threadwatch: ";
  for (const char *p = prefix; *p && n < sizeof(line) - 8; p++) line[n++] = *p;
  size_t len = strlen(text);
  while (len > 0 && text[len - 1] == '\n') len--; /* the newline is ours to add */
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < len && n < sizeof(line) - 8; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 || c == 0x7f) {
      line[n++] = '\\';
      if (c == '\n') line[n++] = 'n';
      else {
        line[n++] = 'x';
        line[n++] = hex[c >> 4];
        line[n++] = hex[c & 15];
      }
    } else {
      line[n++] = (char)c;
    }
  }
  line[n++] = '\n';
  put(line, n);
}

void tw_msg_str(const char *text) { emit(text); }

void tw_msg(const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  emit(text);
}

void tw_msg_quote(char *out, size_t n, const char *s) {
  static const char hex[] = "0123456789abcdef";
  size_t k = 0;
  if (n < 8) {
    if (n) out[0] = '\0';
    return;
  }
  out[k++] = '\'';
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (k + 8 >= n) { /* room for "...'" and the NUL */
      memcpy(out + k, "...", 3);
      k += 3;
      break;
    }
    if (*p < 0x20 || *p == 0x7f || *p == '\'' || *p == '\\') {
      out[k++] = '\\';
      if (*p == '\n') out[k++] = 'n';
      else if (*p == '\'' || *p == '\\') out[k++] = (char)*p;
      else {
        out[k++] = 'x';
        out[k++] = hex[*p >> 4];
        out[k++] = hex[*p & 15];
      }
    } else {
      out[k++] = (char)*p;
    }
  }
  out[k++] = '\'';
  out[k] = '\0';
}
