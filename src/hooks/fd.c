/* Hooks for pipes and eventfds: follow which fds they are (hazard 10), mark blocking I/O on them
 * (on sockets too: hooks/socket.c makes them). read/write can run inside signal handlers (hazard
 * 6): the fast path is one table load, and the slow path uses only lock-free, allocation-free tool
 * code. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runtime/fdtrack.h"
#include "runtime/fork.h"
#include "hooks/hooks.h"
#include "race/hook.h"
#include "control/reporter.h"
#include "runtime/ring.h"
#include "base/out.h"

/* A vfork child's close and dup2 change its own fd table, not the parent's; the table here is the
 * parent's (shared memory): only the tracked-fd slow paths and pipe creation ask. */
static TW_NOINLINE bool fd_table_ours(void) { return !tw_fork_in_shared_child(); }

/* Tells the reporter that this thread reads/writes `fd`, once per fd, generation and direction
 * (a small per-thread set: a request/response loop that alternates read and write on one pipe
 * sent one event per call before, and flooded its ring). Cost when already told: a TLS compare. */
static void note_io(struct tw_tls *t, struct tw_thread *self, int fd, unsigned dir) {
  uint32_t gen = tw_load_relaxed(&tw__fdgen[fd]);
  __typeof__(t->io_seen[0]) *seen = &t->io_seen[(unsigned)fd & (TW_IO_SEEN_SLOTS - 1)];
  if (seen->fd != fd || seen->gen != gen) *seen = (__typeof__(*seen)){fd, gen, 0};
  if (seen->dirs & dir) return;
  /* The reporter is not started for this: fd facts are only drained when it runs (it starts with
   * the first thread, and the exit path drains everything), and this push never waits. A forked
   * child that writes to a pipe and execs thus never gets a thread of ours. */
  struct tw_event ev = {.type = TW_EV_FD_IO, .aux = (uint16_t)dir, .a = (uint64_t)fd,
                        .b = self->id, .c = tw_load_relaxed(&tw__fdobj[fd]), .aux32 = gen};
  if (tw_thread_push(self, &ev)) seen->dirs |= dir; /* else the fact is retried next time */
}

TW_NOINLINE struct tw_thread *tw__io_enter(struct tw_tls *t, int fd, uint8_t kind, unsigned dir,
                                           enum tw_call call) {
  TW_ERRNO_SAVE();
  struct tw_thread *self = tw_self(t);
  /* Who reads and writes what: the facts of pipes, eventfds and socketpairs (a socket to another
   * process has none worth keeping). */
  if (self && tw_fd_kind_internal(kind)) {
    tw_guard_enter(t);
    note_io(t, self, fd, dir);
    tw_guard_leave(t);
  }
  /* A non-blocking fd never waits: no wait state, no stack. */
  if (kind & TW_FD_NONBLOCK) {
    self = NULL;
  } else {
    /* read and write on a socket are socket waits (their rules and stall names are a socket's). */
    if (tw_fd_kind_socket(kind) && (call == TW_CALL_READ || call == TW_CALL_WRITE))
      call = call == TW_CALL_READ ? TW_CALL_SOCK_READ : TW_CALL_SOCK_WRITE;
    self = tw_wait_enter(t, call, 0, 0, fd);
  }
  TW_ERRNO_RESTORE();
  return self;
}

/* Cost of read, __read_chk, write, eventfd_read and eventfd_write: one byte load of the fd table
 * for an fd that is not a tracked pipe or eventfd (every other fd). On a tracked one: the fd fact
 * (a per-thread compare; one event the first time per fd and direction) and, unless the fd is
 * non-blocking, the wait state around the real call (the call site from our frame pointers, a
 * dozen stores, a clock read; no stack walk). */
TW_HOOK ssize_t read(int fd, void *buf, size_t n) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || tw_fd_passive(kind)) return TW_REAL_FN(read)(fd, buf, n);
  ssize_t r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, TW_CALL_READ, TW_REAL_FN(read)(fd, buf, n));
  if (r > 0) tw_race_fd_read(fd);
  return r;
}

TW_HOOK ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || tw_fd_passive(kind)) return TW_REAL_FN(__read_chk)(fd, buf, n, buflen);
  ssize_t r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, TW_CALL_READ,
                             TW_REAL_FN(__read_chk)(fd, buf, n, buflen));
  if (r > 0) tw_race_fd_read(fd);
  return r;
}

TW_HOOK ssize_t write(int fd, const void *buf, size_t n) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0) || tw_fd_passive(kind)) return TW_REAL_FN(write)(fd, buf, n);
  tw_race_fd_writing(fd);
  return TW_TRACKED_IO(fd, kind, TW_EV_IO_WRITE, TW_CALL_WRITE, TW_REAL_FN(write)(fd, buf, n));
}

TW_HOOK int eventfd_read(int fd, eventfd_t *value) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0)) return TW_REAL_FN(eventfd_read)(fd, value);
  int r = TW_TRACKED_IO(fd, kind, TW_EV_IO_READ, TW_CALL_EVENTFD_READ,
                         TW_REAL_FN(eventfd_read)(fd, value));
  if (r == 0) tw_race_fd_read(fd);
  return r;
}

TW_HOOK int eventfd_write(int fd, eventfd_t value) {
  uint8_t kind = tw_fd_get(fd);
  if (tw_likely(kind == 0)) return TW_REAL_FN(eventfd_write)(fd, value);
  tw_race_fd_writing(fd);
  return TW_TRACKED_IO(fd, kind, TW_EV_IO_WRITE, TW_CALL_EVENTFD_WRITE,
                       TW_REAL_FN(eventfd_write)(fd, value));
}

/* A blocked reader of a pipe or eventfd is watched by the reporter thread: start it now, outside
 * any signal handler (read/write may run in one). */
static void track_pipe(const int fds[2], int flags) {
  tw_reporter_ensure_started();
  uint8_t nb = (flags & O_NONBLOCK) ? TW_FD_NONBLOCK : 0;
  uint32_t obj = tw_fd_new_obj();
  tw_fd_track(fds[0], TW_FD_PIPE_R | nb, obj);
  tw_fd_track(fds[1], TW_FD_PIPE_W | nb, obj);
}

/* A pipe made by tool code (libunwind makes one to probe memory while we unwind) is not the
 * application's: it is not tracked, and it is moved above the low fd numbers the application expects
 * to get (its first open() must return what it would without us). */
static void move_tool_fds(int fds[2]) {
  for (int i = 0; i < 2; i++) fds[i] = tw__fd_move_high(fds[i]); /* kept low if it cannot move */
}

static int pipe_common(int fds[2], int flags) {
  struct tw_tls *t = tw_tls();
  int r = flags ? TW_REAL_FN(pipe2)(fds, flags) : TW_REAL_FN(pipe)(fds);
  if (r != 0) return r;
  if (TW_BYPASS(t)) {
    if (t->guard) {
      int saved = errno;
      move_tool_fds(fds);
      errno = saved;
    }
    return r;
  }
  if (fd_table_ours()) track_pipe(fds, flags);
  return r;
}

/* Cost of pipe, pipe2 and eventfd: two (one) stores to the fd table, and the reporter thread is
 * started if it is not running. */
TW_HOOK int pipe(int fds[2]) { return pipe_common(fds, 0); }

TW_HOOK int pipe2(int fds[2], int flags) { return pipe_common(fds, flags); }

TW_HOOK int eventfd(unsigned int initval, int flags) {
  int fd = TW_REAL_FN(eventfd)(initval, flags);
  if (fd < 0 || TW_BYPASS(tw_tls()) || !fd_table_ours()) return fd;
  tw_reporter_ensure_started();
  tw_fd_track(fd, TW_FD_EVENTFD | ((flags & EFD_NONBLOCK) ? TW_FD_NONBLOCK : 0), tw_fd_new_obj());
  return fd;
}

/* Cost of close, dup*, fcntl: one or two byte loads of the fd table; a store when tracked. */
TW_HOOK int close(int fd) {
  /* Untracked first: once the real close returns, the number may already name another file. */
  if (tw_unlikely(tw_fd_get(fd) != 0) && fd_table_ours()) tw_fd_untrack(fd);
  return TW_REAL_FN(close)(fd);
}

TW_HOOK int close_range(unsigned int first, unsigned int last, int flags) {
  if (!TW_REAL_FN(close_range)) {
    errno = ENOSYS;
    return -1;
  }
  int r = TW_REAL_FN(close_range)(first, last, flags);
  if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC) && fd_table_ours()) {
    for (unsigned fd = first; fd <= last && fd < TW_MAX_FDS; fd++) tw_fd_untrack((int)fd);
  }
  return r;
}

/* newfd now refers to what oldfd does: only when either is tracked is there anything to do. */
static inline void fd_copied(int oldfd, int newfd) {
  if (tw_unlikely(tw_fd_get(oldfd) != 0 || tw_fd_get(newfd) != 0) && fd_table_ours())
    tw_fd_copy(oldfd, newfd);
}

TW_HOOK int dup(int fd) {
  int r = TW_REAL_FN(dup)(fd);
  if (r >= 0) fd_copied(fd, r);
  return r;
}

/* The program moved its stderr: the tool's copy follows (base/out.h). */
static TW_NOINLINE void stderr_moved(void) {
  int saved = errno;
  if (fd_table_ours()) tw__stderr_follow();
  errno = saved;
}

TW_HOOK int dup2(int fd, int fd2) {
  int r = TW_REAL_FN(dup2)(fd, fd2);
  if (r >= 0) fd_copied(fd, r);
  if (tw_unlikely(r == 2)) stderr_moved();
  return r;
}

TW_HOOK int dup3(int fd, int fd2, int flags) {
  int r = TW_REAL_FN(dup3)(fd, fd2, flags);
  if (r >= 0) fd_copied(fd, r);
  if (tw_unlikely(r == 2)) stderr_moved();
  return r;
}

/* fcntl's third argument is an int or a pointer depending on cmd; it is passed through as a
 * pointer-sized value, which is what glibc itself does. */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg) {
  int r = real(fd, cmd, arg);
  if (r < 0) return r;
  if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) fd_copied(fd, r);
  else if (cmd == F_SETFL && tw_fd_get(fd) != 0 && fd_table_ours())
    tw_fd_set_nonblock(fd, ((int)(intptr_t)arg & O_NONBLOCK) != 0);
  return r;
}

TW_HOOK int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return fcntl_common(TW_REAL_FN(fcntl), fd, cmd, arg);
}

TW_HOOK int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return fcntl_common(TW_REAL_FN(fcntl64) ? TW_REAL_FN(fcntl64) : TW_REAL_FN(fcntl), fd, cmd, arg);
}
