/* The control socket: answers `threadwatch dump PID` with the thread dump, a profile or the
 * contention table, to the same user. */
#include "control/socket.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "detect/waits.h"
#include "report/dump.h"
#include "report/profiles.h"
#include "base/msg.h"
#include "base/out.h"
#include "base/real.h"
#include "base/tw.h"

/* Pending connections the kernel queues for us between two ticks; more get EAGAIN in the CLI. */
#define CONTROL_BACKLOG 8
/* How long a client may take to send its request line, and to take the answer; it is dropped then.
 * Nothing waits for it meanwhile (tw_control_poll). */
#define CONTROL_REQUEST_MS 1000
#define CONTROL_SEND_MS 2000
/* A request is one short line ("dump all json\n" is 14 bytes). */
#define CONTROL_REQUEST_BYTES 64
/* Socket files looked at per start when sweeping stale ones: bounds the cost of a start in a
 * directory that crashed programs have filled. */
#define CONTROL_SWEEP_MAX 256

static struct {
  int fd;                  /* the listening socket, -1 when not serving */
  dev_t fd_dev;            /* fstat of fd when made: tells us whether the fd is still ours */
  ino_t fd_ino;
  dev_t file_dev;          /* lstat of the socket file: stop unlinks only the file we made */
  ino_t file_ino;
  pid_t pid;               /* the process that made the socket, 0 if none */
  pid_t tried;             /* the process that ran tw_control_start (once per process) */
  uid_t uid;               /* the euid the socket was made under */
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} ctl = {.fd = -1};

static struct tw_out answer; /* 64 KiB buffer: static, the reporter's stack is small */


/* Is ctl.fd still the socket we made? The program may have closed it, or reused its number. */
static bool still_ours(void) {
  struct stat st;
  return ctl.fd >= 0 && fstat(ctl.fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
         st.st_dev == ctl.fd_dev && st.st_ino == ctl.fd_ino;
}

/* Makes `dir` if missing; then it must be a real directory owned by us with no group/other access
 * (hazard 14: nobody else may plant or reach the socket). Returns 0, or -errno with `why` said. */
static int private_dir(const char *dir, char *why, size_t n) {
  if (mkdir(dir, 0700) == 0) {
    if (chmod(dir, 0700) != 0) { /* the umask may have taken the owner's bits too */
      snprintf(why, n, "chmod: %s", strerror(errno));
      return -EPERM;
    }
  } else if (errno != EEXIST) {
    int e = errno;
    snprintf(why, n, "cannot create it: %s", strerror(e));
    return -e;
  }
  struct stat st;
  if (lstat(dir, &st) != 0) {
    int e = errno;
    snprintf(why, n, "lstat: %s", strerror(e));
    return -e;
  }
  if (S_ISLNK(st.st_mode)) snprintf(why, n, "it is a symlink");
  else if (!S_ISDIR(st.st_mode)) snprintf(why, n, "it is not a directory");
  else if (st.st_uid != geteuid() || (st.st_mode & 077))
    snprintf(why, n, "owned by uid %u, mode %04o", (unsigned)st.st_uid,
             (unsigned)(st.st_mode & 07777));
  else return 0;
  return -EPERM;
}

/* Binds and listens on ctl.path (a stale file of an earlier process with our pid is removed).
 * Returns the listening fd or -errno. */
static int listen_socket(void) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  memcpy(sa.sun_path, ctl.path, sizeof(sa.sun_path));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  fd = tw__fd_move_high(fd);
  unlink(ctl.path);
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, CONTROL_BACKLOG) != 0) {
    int e = errno;
    tw__close(fd);
    return -e;
  }
  return fd;
}

/* Records what the fd and the file are, so that later checks can tell them from look-alikes. */
static int remember(int fd) {
  struct stat fs, ls;
  if (fstat(fd, &fs) != 0 || lstat(ctl.path, &ls) != 0) return -errno;
  ctl.fd_dev = fs.st_dev;
  ctl.fd_ino = fs.st_ino;
  ctl.file_dev = ls.st_dev;
  ctl.file_ino = ls.st_ino;
  return 0;
}

/* True when nothing listens on the socket file `path`: connect is refused at once. */
static bool nobody_listens(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool refused = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno == ECONNREFUSED;
  tw__close(fd);
  return refused;
}

/* A process that dies without our exit path (killed, or aborted by THREADWATCH_ON_DEADLOCK=abort)
 * leaves its socket file behind. Removes those of processes that are gone and on which nothing
 * listens (the refusal also covers a process in another pid namespace sharing /tmp). */
static void sweep_stale(const char *dir, pid_t self) {
  /* Moved high at once (not opendir's lowest free fd): while we read, the program's own open()
   * gets the number it would get without us. */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  dfd = tw__fd_move_high(dfd);
  DIR *d = fdopendir(dfd);
  if (!d) {
    tw__close(dfd);
    return;
  }
  struct dirent *e;
  for (int seen = 0; seen < CONTROL_SWEEP_MAX && (e = readdir(d));) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (end == e->d_name || pid <= 0 || strcmp(end, ".sock") != 0) continue;
    seen++;
    if (pid == self || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char path[sizeof(ctl.path)];
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    if (nobody_listens(path)) unlink(path);
  }
  closedir(d);
}

static void start(pid_t pid) {
  char dir[sizeof(ctl.path)], why[160], msg[sizeof(dir) + sizeof(why) + 128];
  snprintf(dir, sizeof(dir), "/tmp/threadwatch-%u", (unsigned)geteuid());
  if (private_dir(dir, why, sizeof(why)) != 0) {
    snprintf(msg, sizeof(msg),
             "threadwatch: the control directory %s is not private (%s); threadwatch dump is off\n",
             dir, why);
    tw_msg_str(msg);
    return;
  }
  sweep_stale(dir, pid);
  snprintf(ctl.path, sizeof(ctl.path), "%s/%ld.sock", dir, (long)pid);
  int fd = listen_socket();
  int rc = fd < 0 ? fd : remember(fd);
  if (rc != 0) {
    if (fd >= 0) {
      tw__close(fd);
      unlink(ctl.path);
    }
    snprintf(msg, sizeof(msg),
             "threadwatch: cannot create the control socket %s: %s; threadwatch dump is off\n",
             ctl.path, strerror(-rc));
    tw_msg_str(msg);
    return;
  }
  ctl.fd = fd;
  ctl.pid = pid;
  ctl.uid = geteuid();
}

void tw_control_start(void) {
  int saved = errno;
  pid_t pid = getpid();
  if (ctl.tried != pid) {
    ctl.tried = pid;
    start(pid);
  }
  errno = saved;
}

/* The clients being served. Nothing here ever waits: each tick reads what a client has sent and
 * sends what its socket takes, and a client past its deadline is dropped, so a slow or idle client
 * (of the same user) delays neither the tick's deadlock scan nor a fork waiting for the analysis
 * lock. */
enum client_state { CL_FREE = 0, CL_READ, CL_SEND };
static struct client {
  enum client_state state;
  int fd;
  uint64_t deadline_ns;
  size_t len;                           /* CL_READ: request bytes so far */
  char req[CONTROL_REQUEST_BYTES];
  char *answer;                         /* CL_SEND: the bytes to send (mmap of a memfd, or a line) */
  size_t size, sent;
  bool mapped;                          /* answer is an mmap to unmap */
  char line[128];                       /* a short answer (an error) */
} clients[CONTROL_BACKLOG];

static void client_close(struct client *c) {
  if (c->mapped) munmap(c->answer, c->size);
  tw__close(c->fd);
  memset(c, 0, sizeof(*c));
  c->fd = -1;
}

static void answer_line(struct client *c, const char *line) {
  snprintf(c->line, sizeof(c->line), "%s", line);
  c->answer = c->line;
  c->size = strlen(c->line);
  c->sent = 0;
  c->mapped = false;
  c->state = CL_SEND;
  c->deadline_ns = tw__now_ns() + CONTROL_SEND_MS * 1000000ull;
}

/* What a client asks for, one line:
 *   dump [all] [json]           the thread dump (docs/dump.md)
 *   profile KIND [folded]       profile KIND (threads, block, mutex) as gzipped pprof, or folded
 *   contention [json]           the contention table
 * words after the first in any order. */
enum request { REQ_DUMP, REQ_PROFILE, REQ_CONTENTION };
struct req {
  enum request what;
  bool all, json, folded;
  int kind; /* enum tw_profile_kind */
};

/* Returns false for anything else. */
static bool parse_request(char *line, struct req *q) {
  char *save = NULL, *w = strtok_r(line, " \t", &save);
  memset(q, 0, sizeof(*q));
  q->kind = -1;
  if (!w) return false;
  if (strcmp(w, "dump") == 0) q->what = REQ_DUMP;
  else if (strcmp(w, "profile") == 0) q->what = REQ_PROFILE;
  else if (strcmp(w, "contention") == 0) q->what = REQ_CONTENTION;
  else return false;
  while ((w = strtok_r(NULL, " \t", &save))) {
    if (q->what == REQ_DUMP && strcmp(w, "all") == 0) q->all = true;
    else if (q->what != REQ_PROFILE && strcmp(w, "json") == 0) q->json = true;
    else if (q->what == REQ_PROFILE && strcmp(w, "folded") == 0) q->folded = true;
    else if (q->what == REQ_PROFILE && q->kind < 0 && tw_profile_kind_parse(w) >= 0)
      q->kind = tw_profile_kind_parse(w);
    else return false;
  }
  return q->what != REQ_PROFILE || q->kind >= 0;
}

/* Renders the answer into an anonymous memory file, mapped for sending: the rendering does not
 * depend on how fast the client reads. */
static void answer_dump(struct client *c, const struct req *q) {
  char line[160];
  int mfd = memfd_create("threadwatch-dump", MFD_CLOEXEC);
  if (mfd < 0) {
    snprintf(line, sizeof(line), "threadwatch: cannot make the dump: memfd_create: %s\n",
             strerror(errno));
    answer_line(c, line);
    return;
  }
  mfd = tw__fd_move_high(mfd);
  tw_out_init(&answer, mfd);
  int rc = 0;
  switch (q->what) {
    case REQ_DUMP: {
      static struct tw_dump_deadlocks deadlocks;
      tw_waits_find_deadlocks(&deadlocks, tw__now_ns());
      tw_dump_write(&answer, q->all, q->json, &deadlocks);
      break;
    }
    case REQ_PROFILE: rc = tw_profiles_write(&answer, (enum tw_profile_kind)q->kind, q->folded); break;
    case REQ_CONTENTION: tw_contention_table(&answer, q->json); break;
  }
  int frc = tw_out_flush(&answer);
  if (!rc) rc = frc;
  off_t size = rc == 0 ? lseek(mfd, 0, SEEK_END) : -1;
  if (rc == 0 && size == 0) { /* an empty profile in folded form: say so rather than nothing */
    tw__close(mfd);
    answer_line(c, "threadwatch: the profile is empty\n");
    return;
  }
  void *p = size > 0 ? mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, mfd, 0) : MAP_FAILED;
  int e = errno;
  tw__close(mfd);
  if (p == MAP_FAILED) {
    snprintf(line, sizeof(line), "threadwatch: cannot make the dump: %s\n", strerror(rc ? -rc : e));
    answer_line(c, line);
    return;
  }
  c->answer = p;
  c->size = (size_t)size;
  c->sent = 0;
  c->mapped = true;
  c->state = CL_SEND;
  c->deadline_ns = tw__now_ns() + CONTROL_SEND_MS * 1000000ull;
}

/* One request, one answer, for the same user only. The request is read even from a peer that is
 * refused: closing a socket with unread data resets the connection, and the peer would see that
 * instead of the reason. */
static void answer_request(struct client *c) {
  c->req[c->len] = '\0';
  c->req[strcspn(c->req, "\r\n")] = '\0';
  struct ucred cred;
  socklen_t len = sizeof(cred);
  uid_t me = geteuid();
  struct req q;
  /* The same user: the one the process runs as now, or ran as when it made the socket (a server
   * started as root that dropped privileges since answers to root). */
  if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      (cred.uid != me && cred.uid != ctl.uid)) {
    char line[96];
    snprintf(line, sizeof(line), "threadwatch: refused: this process answers only to uid %u\n",
             (unsigned)me);
    answer_line(c, line);
  } else if (!parse_request(c->req, &q)) {
    answer_line(c, "threadwatch: unknown request\n");
  } else {
    answer_dump(c, &q);
  }
}

/* Moves one client on as far as it goes without waiting. */
static void client_step(struct client *c, uint64_t now) {
  if (c->state == CL_READ) {
    while (c->len + 1 < sizeof(c->req)) {
      ssize_t r = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len, MSG_DONTWAIT);
      if (r > 0) {
        c->len += (size_t)r;
        if (memchr(c->req, '\n', c->len)) break;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (now >= c->deadline_ns) client_close(c); /* nothing asked in time: hang up */
        return;
      }
      if (r < 0) {
        client_close(c);
        return;
      }
      break; /* r == 0: the client has finished writing: take what came */
    }
    answer_request(c);
  }
  if (c->state == CL_SEND) {
    while (c->sent < c->size) {
      /* MSG_NOSIGNAL: a client gone away is EPIPE, never a SIGPIPE in the application. */
      ssize_t w = send(c->fd, c->answer + c->sent, c->size - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        c->sent += (size_t)w;
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now < c->deadline_ns) return;
      break; /* an error, or past the deadline */
    }
    client_close(c);
  }
}

void tw_control_poll(void) {
  if (ctl.fd < 0) return;
  int saved = errno;
  uint64_t now = tw__now_ns();
  for (size_t i = 0; i < TW_ARRAY_LEN(clients); i++)
    if (clients[i].state != CL_FREE) client_step(&clients[i], now);
  for (size_t i = 0; i < TW_ARRAY_LEN(clients); i++) {
    if (clients[i].state != CL_FREE) continue;
    /* Checked before every accept: on a number the program reused for its own listening socket,
     * accept would take the program's connection. The fd is no longer ours: never close it. */
    if (!still_ours()) {
      ctl.fd = -1;
      break;
    }
    int fd = accept4(ctl.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break; /* EAGAIN: nobody is asking, the usual case */
    struct client *c = &clients[i];
    c->fd = tw__fd_move_high(fd);
    c->state = CL_READ;
    c->len = 0;
    c->deadline_ns = now + CONTROL_REQUEST_MS * 1000000ull;
    client_step(c, now);
  }
  errno = saved;
}

bool tw_control_busy(void) {
  for (size_t i = 0; i < TW_ARRAY_LEN(clients); i++)
    if (clients[i].state != CL_FREE) return true;
  return false;
}

void tw_control_stop(void) {
  /* None, or a parent's (a child forked without our hook, by a raw clone, does not own it). */
  if (ctl.pid == 0 || ctl.pid != getpid()) return;
  int saved = errno;
  for (size_t i = 0; i < TW_ARRAY_LEN(clients); i++)
    if (clients[i].state != CL_FREE) client_close(&clients[i]);
  if (still_ours()) tw__close(ctl.fd);
  ctl.fd = -1;
  struct stat st;
  if (lstat(ctl.path, &st) == 0 && st.st_dev == ctl.file_dev && st.st_ino == ctl.file_ino)
    unlink(ctl.path);
  ctl.pid = 0;
  errno = saved;
}

void tw_control_after_fork_child(void) {
  int saved = errno;
  /* The parent still listens on the same socket and path: close our copy, leave the file; the
   * parent's clients are the parent's (their fds are close-on-exec copies: closed, not answered). */
  for (size_t i = 0; i < TW_ARRAY_LEN(clients); i++)
    if (clients[i].state != CL_FREE) client_close(&clients[i]);
  if (still_ours()) tw__close(ctl.fd);
  ctl.fd = -1;
  ctl.pid = 0;
  ctl.tried = 0;
  errno = saved;
}
