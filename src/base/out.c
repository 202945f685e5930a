/* Allocation-free buffered writer: reports are formatted into a fixed buffer and written with write(2). */
#include "base/out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/atomic.h"
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

/* The length of the valid UTF-8 sequence at p (1 to 4 bytes, the lead byte >= 0x80), or 0 when it
 * is not one: a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut
 * short (a name cut at 15 bytes in the middle of a character). */
static size_t utf8_len(const unsigned char *p) {
  size_t n;
  uint32_t min, c;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) n = 2, min = 0x80, c = p[0] & 0x1f;
  else if ((p[0] & 0xf0) == 0xe0) n = 3, min = 0x800, c = p[0] & 0x0f;
  else if (p[0] >= 0xf0 && p[0] <= 0xf4) n = 4, min = 0x10000, c = p[0] & 0x07;
  else return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
    c = (c << 6) | (p[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return n;
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
        if (*p >= 0x80) {
          /* Valid UTF-8 is kept as it is (a thread named café stays café). A byte that is not
           * part of valid UTF-8 (names and paths are bytes) is escaped as the code point of the
           * same number, U+0080..U+00FF, so every line stays valid JSON and valid UTF-8. */
          size_t n = utf8_len(p);
          if (n) {
            tw_out_write(o, (const char *)p, n);
            p += n - 1;
            break;
          }
        }
        if (*p < 0x20 || *p >= 0x7f) {
          char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
          tw_out_write(o, e, sizeof(e));
        } else {
          tw_out_write(o, (const char *)p, 1);
        }
    }
  }
  tw_out_write(o, "\"", 1);
}

/* --- opening report files safely --------------------------------------------------------- */

/* Whether a symlink owned by `link_uid` may be followed on the way to a report file: only when it
 * is ours or root's. A symlink another user owns (in /tmp, or in a directory of theirs) could send a
 * process running as root to append to any file of root's. */
static bool symlink_ok(const struct stat *dir, uid_t link_uid) {
  (void)dir;
  return link_uid == geteuid() || link_uid == 0;
}

/* Opens directory `path` relative to `at` (AT_FDCWD or an O_PATH directory fd) one component at
 * a time, following a symlink only when symlink_ok allows it. Returns an O_PATH fd or -errno with
 * the reason in why. */
static int open_dir_at(int at, const char *path, int depth, char *why, size_t n) {
  if (depth > 8) {
    snprintf(why, n, "too many symlinks");
    return -ELOOP;
  }
  int cur = path[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                           : openat(at, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0) {
    snprintf(why, n, "%s", strerror(errno));
    return -errno;
  }
  char comp[256];
  for (const char *p = path; *p;) {
    while (*p == '/') p++;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == 0) break;
    if (len >= sizeof(comp)) {
      TW_REAL_FN(close)(cur);
      snprintf(why, n, "a path component is too long");
      return -ENAMETOOLONG;
    }
    memcpy(comp, p, len);
    comp[len] = '\0';
    p += len;
    struct stat st, dst;
    if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) != 0 || fstat(cur, &dst) != 0) {
      int e = errno;
      TW_REAL_FN(close)(cur);
      snprintf(why, n, "%s: %s", comp, strerror(e));
      return -e;
    }
    int next;
    if (S_ISLNK(st.st_mode)) {
      if (!symlink_ok(&dst, st.st_uid)) {
        TW_REAL_FN(close)(cur);
        snprintf(why, n, "the directory component '%s' is a symlink owned by uid %u, not by this "
                 "process's uid or root", comp, (unsigned)st.st_uid);
        return -ELOOP;
      }
      char target[4096];
      ssize_t k = readlinkat(cur, comp, target, sizeof(target) - 1);
      if (k <= 0) {
        int e = k < 0 ? errno : EINVAL;
        TW_REAL_FN(close)(cur);
        snprintf(why, n, "%s: %s", comp, strerror(e));
        return -e;
      }
      target[k] = '\0';
      next = open_dir_at(cur, target, depth + 1, why, n);
    } else {
      next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) {
        next = -errno;
        snprintf(why, n, "%s: %s", comp, strerror(errno));
      }
    }
    TW_REAL_FN(close)(cur);
    if (next < 0) return next;
    cur = next;
  }
  return cur;
}

int tw__open_report_file(const char *path, char *why, size_t n, bool *created) {
  why[0] = '\0';
  *created = false;
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (!*base) {
    snprintf(why, n, "it names a directory");
    return -EISDIR;
  }
  int dir = AT_FDCWD;
  if (slash) {
    char d[4096];
    size_t dl = (size_t)(slash - path);
    if (dl >= sizeof(d)) {
      snprintf(why, n, "the path is too long");
      return -ENAMETOOLONG;
    }
    memcpy(d, path, dl);
    d[dl] = '\0';
    dir = open_dir_at(AT_FDCWD, dl ? d : "/", 0, why, n);
    if (dir < 0) return dir;
  }
  /* O_NONBLOCK: opening a FIFO for writing must not wait for a reader (it is refused below). */
  int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  int fd = openat(dir, base, flags | O_CREAT | O_EXCL, 0644);
  if (fd >= 0) *created = true;
  else if (errno == EEXIST) fd = openat(dir, base, flags);
  int e = errno;
  if (dir != AT_FDCWD) TW_REAL_FN(close)(dir);
  if (fd < 0) {
    snprintf(why, n, "%s", e == ELOOP ? "it is a symlink" : strerror(e));
    return -e;
  }
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st) != 0) {
    rc = -errno;
    snprintf(why, n, "%s", strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    rc = -EINVAL;
    snprintf(why, n, "it is not a regular file (%s)",
             S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a character device" :
             S_ISSOCK(st.st_mode) ? "a socket" : S_ISDIR(st.st_mode) ? "a directory" : "special");
  } else if (st.st_uid != geteuid()) {
    rc = -EPERM;
    snprintf(why, n, "it belongs to uid %u, not to this process's uid %u", (unsigned)st.st_uid,
             (unsigned)geteuid());
  } else if (st.st_nlink > 1) {
    rc = -EPERM;
    snprintf(why, n, "it has %lu hard links", (unsigned long)st.st_nlink);
  }
  if (rc != 0) {
    TW_REAL_FN(close)(fd);
    return rc;
  }
  int fl = TW_REAL_FN(fcntl)(fd, F_GETFL);
  if (fl >= 0) TW_REAL_FN(fcntl)(fd, F_SETFL, fl & ~O_NONBLOCK);
  return tw__fd_move_high(fd);
}

bool tw__fd_same(int fd, const struct tw_file_id *id) {
  struct stat st;
  return fd >= 0 && id->valid && fstat(fd, &st) == 0 && st.st_dev == id->dev &&
         st.st_ino == id->ino;
}

void tw__fd_id(int fd, struct tw_file_id *id) {
  struct stat st;
  id->valid = fd >= 0 && fstat(fd, &st) == 0;
  id->dev = id->valid ? st.st_dev : 0;
  id->ino = id->valid ? st.st_ino : 0;
}

/* --- stderr ------------------------------------------------------------------------------- */

/* The tool's own copy of the program's stderr: reports and messages go there, never to whatever
 * the number 2 names later (a program that closed stderr may get a data file or a socket as fd 2
 * from its next open). A redirect the program makes with dup2/dup3 onto 2 is followed. */
static _Atomic int err_fd = -1;
static _Atomic int err_state; /* 0 not made, 1 made */

void tw__stderr_init(void) {
  if (atomic_exchange(&err_state, 1)) return;
  int fd = TW_REAL_FN(fcntl)(2, F_DUPFD_CLOEXEC, TW_TOOL_FD_BASE);
  if (fd < 0) fd = TW_REAL_FN(fcntl)(2, F_DUPFD_CLOEXEC, 3); /* a low limit on fds */
  tw_store_release(&err_fd, fd);
}

void tw__stderr_follow(void) {
  if (!tw_load_acquire(&err_state)) return;
  int fd = TW_REAL_FN(fcntl)(2, F_DUPFD_CLOEXEC, TW_TOOL_FD_BASE);
  if (fd < 0) return;
  int old = atomic_exchange(&err_fd, fd);
  if (old >= 0) TW_REAL_FN(close)(old);
}

int tw__stderr_fd(void) {
  if (!tw_load_acquire(&err_state)) return 2; /* before initialisation: nothing can have moved */
  return tw_load_acquire(&err_fd);
}
