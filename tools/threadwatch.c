/* threadwatch CLI: run a program under the preloaded library, dump a running program's threads,
 * attach to a program that is not under it (attach.c), print the option table. */
#include <dirent.h>
#include <errno.h>
#include <linux/limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/options.h"

int cmd_attach(int argc, char **argv); /* attach.c */

static void usage(FILE *f) {
  fprintf(f,
          "usage: threadwatch run [--] PROGRAM [ARGS...]   run PROGRAM with libthreadwatch.so preloaded\n"
          "       threadwatch dump [--all|-a] [--json] PID  print the threads of a running PID\n"
          "                                                 (grouped by stack; --all: one by one)\n"
          "       threadwatch dump --pprof[=KIND] PID > FILE.pb.gz\n"
          "       threadwatch dump --folded[=KIND] PID     a profile of a running PID, KIND threads\n"
          "                                                 (default), block or mutex: gzipped pprof\n"
          "                                                 for `go tool pprof`, or folded stacks\n"
          "                                                 (also --profile KIND --format pprof|folded)\n"
          "       threadwatch dump --contention [--json] PID\n"
          "                                                 its contention table (THREADWATCH_PROFILE)\n"
          "       threadwatch attach [--all|-a] [--json] PID\n"
          "                                                 stop any PID's threads for a moment:\n"
          "                                                 their stacks and waits, and a deadlock\n"
          "                                                 verdict (exit 66 when one is found)\n"
          "       threadwatch options [--markdown]          list the THREADWATCH_* options\n"
          "       threadwatch version\n");
}

/* The library: $THREADWATCH_LIB, else next to this executable, else the build directory. */
static int find_library(char *out, size_t n) {
  const char *env = getenv("THREADWATCH_LIB");
  if (env && *env) {
    snprintf(out, n, "%s", env);
    return access(out, R_OK) == 0 ? 0 : -ENOENT;
  }
  char self[PATH_MAX - 64];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len > 0) {
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) {
      *slash = '\0';
      snprintf(out, n, "%s/libthreadwatch.so", self);
      if (access(out, R_OK) == 0) return 0;
      snprintf(out, n, "%s/../lib/libthreadwatch.so", self);
      if (access(out, R_OK) == 0) return 0;
    }
  }
  snprintf(out, n, "%s/libthreadwatch.so", TW_LIBDIR);
  return access(out, R_OK) == 0 ? 0 : -ENOENT;
}

static int cmd_options(int markdown) {
  const char *name, *type, *def, *desc, *form;
  if (markdown) {
    printf("| variable | default | accepted values | meaning |\n| --- | --- | --- | --- |\n");
  }
  for (size_t i = 0; tw__options_entry(i, &name, &type, &def, &desc, &form) == 0; i++) {
    if (markdown)
      printf("| `THREADWATCH_%s` | `%s` | %s | %s |\n", name, def[0] ? def : "(empty)", form, desc);
    else
      printf("THREADWATCH_%-14s default %-8s %s\n    accepts %s\n", name, def[0] ? def : "\"\"",
             desc, form);
  }
  return 0;
}

static int cmd_run(int argc, char **argv) {
  if (argc > 0 && strcmp(argv[0], "--") == 0) {
    argc--;
    argv++;
  }
  if (argc == 0) {
    usage(stderr);
    return 2;
  }
  char lib[PATH_MAX + 64];
  if (find_library(lib, sizeof(lib)) != 0) {
    fprintf(stderr, "threadwatch: cannot find libthreadwatch.so (looked at %s); set THREADWATCH_LIB\n",
            lib);
    return 2;
  }
  const char *old = getenv("LD_PRELOAD");
  char preload[3 * PATH_MAX];
  if (old && *old) snprintf(preload, sizeof(preload), "%s:%s", lib, old);
  else snprintf(preload, sizeof(preload), "%s", lib);
  setenv("LD_PRELOAD", preload, 1);
  execvp(argv[0], argv);
  fprintf(stderr, "threadwatch: cannot run %s: %s\n", argv[0], strerror(errno));
  return 127;
}

/* --- threadwatch dump PID: ask a running process for its thread dump (docs/dump.md) --- */

/* How long the CLI waits for the process to say something. The process looks at its socket every
 * 100 ms and renders the whole dump before sending it; 5 s covers a large dump on a busy
 * machine. */
#define DUMP_ANSWER_MS 5000

static int dump_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int dump_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("threadwatch: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
  return 1;
}

static int dump_denied(long pid) {
  return dump_fail("permission denied: process %ld belongs to another user; threadwatch dump "
                   "answers only to the user who runs the process", pid);
}

static int dump_not_started(long pid) {
  return dump_fail("process %ld has not started its reporter thread yet (it starts with the first "
                   "thread or blocking wait)", pid);
}

/* Whether a maps file names libthreadwatch; *lines counts its lines. */
static bool maps_has_library(FILE *f, int *lines) {
  char *line = NULL;
  size_t cap = 0;
  bool loaded = false;
  while (!loaded && getline(&line, &cap, f) > 0) {
    (*lines)++;
    loaded = strstr(line, "libthreadwatch") != NULL;
  }
  free(line);
  return loaded;
}

/* The real, effective, saved and filesystem uids of process pid (/proc/PID/status), into uids[max].
 * Returns how many were read. */
static int status_uids(long pid, uid_t *uids, int max) {
  char path[64], *line = NULL;
  size_t cap = 0;
  int n = 0;
  snprintf(path, sizeof(path), "/proc/%ld/status", pid);
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  while (getline(&line, &cap, f) > 0) {
    if (strncmp(line, "Uid:", 4) != 0) continue;
    char *p = line + 4, *end;
    for (unsigned long u; n < max && (u = strtoul(p, &end, 10), end != p); p = end) uids[n++] = (uid_t)u;
    break;
  }
  free(line);
  fclose(f);
  return n;
}

/* The process exists, we may look at it, and it has libthreadwatch.so mapped. Sets *owner to its
 * uid. Returns 0, or 1 after saying why not. */
static int dump_check_process(long pid, uid_t *owner) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%ld", pid);
  if (stat(path, &st) != 0) return dump_fail("no process %ld", pid);
  *owner = st.st_uid;
  if (st.st_uid != geteuid() && geteuid() != 0) return dump_denied(pid);
  snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
  FILE *f = fopen(path, "re");
  if (!f) {
    if (errno == ENOENT || errno == ESRCH) return dump_fail("no process %ld", pid);
    if (errno == EACCES || errno == EPERM) return dump_denied(pid);
    return dump_fail("cannot read %s: %s", path, strerror(errno));
  }
  int lines = 0;
  bool loaded = maps_has_library(f, &lines);
  fclose(f);
  if (lines == 0) {
    /* A main thread that called pthread_exit is a zombie with an empty maps file; any live thread
     * of the process shows the same mappings. */
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%ld/task", pid);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && !loaded && lines == 0 && (e = readdir(d));) {
      if (e->d_name[0] == '.') continue;
      char tpath[300];
      snprintf(tpath, sizeof(tpath), "%s/%s/maps", dir, e->d_name);
      FILE *tf = fopen(tpath, "re");
      if (!tf) continue;
      loaded = maps_has_library(tf, &lines);
      fclose(tf);
    }
    if (d) closedir(d);
  }
  if (!loaded)
    return dump_fail("process %ld is not running under libthreadwatch.so (start it with "
                     "LD_PRELOAD=.../libthreadwatch.so or `threadwatch run`)", pid);
  return 0;
}

/* The process's control directory must be as private as the process makes it: someone else's
 * directory could hold a socket that answers with anything. Returns 0, or 1 after saying why
 * not. */
static int dump_check_dir(long pid, const char *dir, uid_t owner) {
  struct stat st;
  if (lstat(dir, &st) != 0) {
    if (errno == ENOENT) return dump_not_started(pid);
    if (errno == EACCES || errno == EPERM) return dump_denied(pid);
    return dump_fail("cannot look at %s: %s", dir, strerror(errno));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != owner || (st.st_mode & 077))
    return dump_fail("the control directory %s is not private (not a directory owned by uid %u "
                     "with mode 0700); not using it", dir, (unsigned)owner);
  return 0;
}

/* Connects to the socket of `pid` and checks that the process itself listens on it. Returns the fd,
 * or -1 after saying why not. */
static int dump_connect(long pid, const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return dump_fail("socket: %s", strerror(errno)), -1;
  if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    int e = errno;
    close(s);
    if (e == ENOENT) dump_not_started(pid);
    else if (e == EACCES || e == EPERM) dump_denied(pid);
    else if (e == ECONNREFUSED)
      dump_fail("process %ld does not answer on %s (connection refused: the socket is stale, or "
                "the program closed it)", pid, path);
    else if (e == EAGAIN)
      dump_fail("process %ld has too many dump requests waiting; try again", pid);
    else dump_fail("cannot connect to %s: %s", path, strerror(e));
    return -1;
  }
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid != (pid_t)pid) {
    close(s);
    dump_fail("%s is served by process %ld, not %ld; not using it", path, (long)cred.pid, pid);
    return -1;
  }
  return s;
}

/* Waits up to DUMP_ANSWER_MS for bytes, then reads them. Returns the count, 0 at the end, -1 on
 * error or timeout (said). */
static ssize_t dump_recv(int s, long pid, char *buf, size_t n, bool started) {
  for (;;) {
    ssize_t r = recv(s, buf, n, 0);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET && started) return 0; /* it closed with our request unread: the end */
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      dump_fail("reading the answer of process %ld: %s", pid, strerror(errno));
      return -1;
    }
    struct pollfd pfd = {.fd = s, .events = POLLIN};
    int rc = poll(&pfd, 1, DUMP_ANSWER_MS);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      if (started) dump_fail("process %ld stopped answering for %d s; the dump is cut", pid,
                             DUMP_ANSWER_MS / 1000);
      else dump_fail("process %ld did not answer within %d s", pid, DUMP_ANSWER_MS / 1000);
      return -1;
    }
  }
}

/* Copies the answer to stdout. An answer that is one "threadwatch: ..." line (refused, unknown
 * request) goes to stderr and fails. Returns the exit status. */
static int dump_copy(int s, long pid, int send_errno) {
  static const char prefix[] = "threadwatch: ";
  char buf[1 << 16];
  size_t have = 0;
  /* Enough bytes to tell a dump from an error line. */
  while (have < sizeof(prefix) - 1) {
    ssize_t r = dump_recv(s, pid, buf + have, sizeof(buf) - have, have > 0);
    if (r < 0) return 1;
    if (r == 0) break;
    have += (size_t)r;
  }
  if (have == 0 && send_errno)
    return dump_fail("cannot send the request to process %ld: %s", pid, strerror(send_errno));
  if (have == 0) return dump_fail("process %ld closed the connection without an answer", pid);
  bool error = have >= sizeof(prefix) - 1 && memcmp(buf, prefix, sizeof(prefix) - 1) == 0;
  FILE *out = error ? stderr : stdout;
  for (;;) {
    if (fwrite(buf, 1, have, out) != have) break;
    ssize_t r = dump_recv(s, pid, buf, sizeof(buf), true);
    if (r <= 0) {
      if (r < 0) error = true;
      break;
    }
    have = (size_t)r;
  }
  if (fflush(out) != 0 || ferror(out)) return dump_fail("writing the dump: %s", strerror(errno));
  return error ? 1 : 0;
}

/* The value of `--NAME=VALUE` or `--NAME VALUE` at argv[*i] (NULL when argv[*i] is not --NAME);
 * *bad when the value is missing. `optional`: `--NAME` alone is allowed (returns ""). */
static const char *dump_value(int argc, char **argv, int *i, const char *name, bool optional,
                              bool *bad) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0) return NULL;
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (argv[*i][n] != '\0') return NULL;
  if (optional) return "";
  if (*i + 1 >= argc) {
    *bad = true;
    return NULL;
  }
  return argv[++*i];
}

static bool profile_kind_ok(const char *k) {
  return !strcmp(k, "threads") || !strcmp(k, "block") || !strcmp(k, "mutex");
}

static int cmd_dump(int argc, char **argv) {
  bool all = false, json = false, contention = false, bad = false;
  const char *pid_arg = NULL, *format = "text", *kind = NULL, *v;
  for (int i = 0; i < argc && !bad; i++) {
    if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0) all = true;
    else if (strcmp(argv[i], "--json") == 0) json = true;
    else if (strcmp(argv[i], "--contention") == 0) contention = true;
    else if ((v = dump_value(argc, argv, &i, "--pprof", true, &bad))) format = "pprof", kind = *v ? v : kind;
    else if ((v = dump_value(argc, argv, &i, "--folded", true, &bad))) format = "folded", kind = *v ? v : kind;
    else if ((v = dump_value(argc, argv, &i, "--format", false, &bad))) format = v;
    else if ((v = dump_value(argc, argv, &i, "--profile", false, &bad))) kind = v;
    else if (!pid_arg && argv[i][0] != '-') pid_arg = argv[i];
    else bad = true;
  }
  if (!bad && !strcmp(format, "json")) json = true, format = "text";
  bool profile = !strcmp(format, "pprof") || !strcmp(format, "folded");
  if (kind && !profile && !bad) format = "pprof", profile = true; /* --profile KIND alone: pprof */
  if (!bad && strcmp(format, "text") != 0 && !profile) {
    fprintf(stderr, "threadwatch: dump --format takes text, json, pprof or folded, not '%s'\n", format);
    return 2;
  }
  if (!bad && kind && !profile_kind_ok(kind)) {
    fprintf(stderr, "threadwatch: a profile is threads, block or mutex, not '%s'\n", kind);
    return 2;
  }
  if (!bad && ((profile && (all || json || contention)) || (contention && all))) {
    fprintf(stderr, "threadwatch: dump takes one of: a dump (--all, --json), a profile (--pprof, "
                    "--folded), the contention table (--contention [--json])\n");
    return 2;
  }
  char *end = NULL;
  long pid = pid_arg ? strtol(pid_arg, &end, 10) : 0;
  if (bad || !pid_arg || *end != '\0' || pid <= 0) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(format, "pprof") && isatty(STDOUT_FILENO)) {
    fprintf(stderr, "threadwatch: not writing a binary pprof profile to a terminal; redirect it "
                    "(threadwatch dump --pprof %ld > threads.pb.gz)\n", pid);
    return 2;
  }
  uid_t owner = 0; /* set by dump_check_process on success */
  if (dump_check_process(pid, &owner) != 0) return 1;
  /* A server that dropped privileges is not dumpable: /proc shows root as its owner, while its
   * socket was made under the uid it ran as then (root, when its reporter started before the
   * drop) or the uid it has now: the first directory that has the socket, of the owner of /proc/PID,
   * the uids of /proc/PID/status, and root. */
  uid_t uids[6] = {owner};
  int nuids = 1 + status_uids(pid, uids + 1, 4);
  uids[nuids++] = 0;
  char dir[64], path[128];
  for (int i = 0; i < nuids; i++) {
    owner = uids[i];
    snprintf(dir, sizeof(dir), "/tmp/threadwatch-%u", (unsigned)owner);
    snprintf(path, sizeof(path), "%s/%ld.sock", dir, pid);
    if (access(path, F_OK) == 0) break;
    owner = uids[0];
    snprintf(dir, sizeof(dir), "/tmp/threadwatch-%u", (unsigned)owner);
    snprintf(path, sizeof(path), "%s/%ld.sock", dir, pid);
  }
  if (dump_check_dir(pid, dir, owner) != 0) return 1;
  int s = dump_connect(pid, path);
  if (s < 0) return 1;
  char req[64];
  int n;
  if (profile)
    n = snprintf(req, sizeof(req), "profile %s%s\n", kind ? kind : "threads",
                 !strcmp(format, "folded") ? " folded" : "");
  else if (contention) n = snprintf(req, sizeof(req), "contention%s\n", json ? " json" : "");
  else n = snprintf(req, sizeof(req), "dump%s%s\n", all ? " all" : "", json ? " json" : "");
  /* A send that fails (the process hung up at once) is not the end: it may have said why. */
  int send_errno = send(s, req, (size_t)n, MSG_NOSIGNAL) == n ? 0 : errno;
  int rc = dump_copy(s, pid, send_errno);
  close(s);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 2, argv + 2);
  if (strcmp(argv[1], "dump") == 0) return cmd_dump(argc - 2, argv + 2);
  if (strcmp(argv[1], "attach") == 0) return cmd_attach(argc - 2, argv + 2);
  if (strcmp(argv[1], "options") == 0)
    return cmd_options(argc > 2 && strcmp(argv[2], "--markdown") == 0);
  if (strcmp(argv[1], "version") == 0) {
    printf("threadwatch 0.1.0\n");
    return 0;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "threadwatch: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
