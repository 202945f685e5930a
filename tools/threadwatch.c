/* threadwatch CLI: the command table, help and version for every command, `run` (a program under
 * the preloaded library), `options`, and `dump` (a running program's threads, over its socket).
 * `report` and `suppress` (saved JSON Lines) are in report_cmd.c, `attach` in attach.c. */
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "cli.h"
#include "report/view.h"

/* Where the installed library is, relative to the installed CLI's directory (CMake computes it from
 * the install directories: "../lib", "../lib/x86_64-linux-gnu"). No absolute path is compiled in:
 * a copied or relocated installation finds its own library, never a build tree's. */
#ifndef TW_LIB_RELDIR
#define TW_LIB_RELDIR "../lib"
#endif

/* --- help ------------------------------------------------------------------------------------ */

struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *usage; /* after "usage: threadwatch " */
  const char *help;  /* what it does and its options */
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"run", cmd_run, "run [OPTIONS] [--] PROGRAM [ARGS...]",
     "Runs PROGRAM with libthreadwatch.so preloaded. Each option sets the THREADWATCH_ variable\n"
     "of the same name, so every process PROGRAM starts inherits it; relative paths are made\n"
     "absolute (a child that changes directory still finds them).\n"
     "\n"
     "  -l, --log FILE           text reports: stderr (default), stdout or a file (%p = pid)\n"
     "  -j, --json FILE          JSON Lines reports, one object per line (%p = pid)\n"
     "  -s, --sarif FILE         SARIF 2.1.0 reports, one document (a threadwatch SARIF file\n"
     "                           already there is started anew)\n"
     "      --suppress FILE      suppressions file (KIND[/WHAT]:PATTERN lines)\n"
     "      --stall DURATION     how long a thread may stay blocked before a stall report (10s)\n"
     "      --exitcode N         exit status of a run whose reports fail it (66; 0: keep the\n"
     "                           program's own)\n"
     "      --fail-on LIST       which reports fail the run: error (default), warning, all, none,\n"
     "                           kinds (stall) or kind/what (thread-leak/blocked), comma-separated\n"
     "      --source-root DIR    SARIF locations relative to DIR\n"
     "  -o, --option NAME=VALUE  any option of `threadwatch options` (max_threads=100), repeatable\n"
     "      --lib FILE           the library to preload (THREADWATCH_LIB; default: the one\n"
     "                           installed with this CLI)\n"
     "\n"
     "A program that needs AddressSanitizer's runtime (libasan) gets it preloaded first, as ASan\n"
     "requires. A statically linked PROGRAM cannot be watched: run says so and runs it anyway.\n"
     "Exit status: PROGRAM's (THREADWATCH_EXITCODE when a report fails the run), 127 when it\n"
     "cannot be run, 2 for bad use."},
    {"report", cmd_report, "report [OPTIONS] FILE.jsonl...",
     "Renders saved JSON Lines (THREADWATCH_JSON files; - reads stdin) as text reports, as one\n"
     "SARIF 2.1.0 document (code scanning), or as JUnit XML (CI dashboards: one test case per\n"
     "kind and site, the text report as the failure).\n"
     "\n"
     "  -f, --format FORMAT      text (default), sarif or junit\n"
     "  -o, --output FILE        write to FILE instead of stdout\n"
     "      --source-root DIR    SARIF: locations relative to DIR\n"
     "      --fail-on LIST       JUnit: the reports that are failures (default error, the same\n"
     "                           words as --fail-on of run); the others pass with their text\n"
     "\n"
     "A line that does not parse (a process killed while writing it) is skipped with a warning.\n"
     "Exit status: 0, 1 when a file cannot be read or written, 2 for bad use."},
    {"suppress", cmd_suppress, "suppress [OPTIONS] FILE.jsonl...",
     "Prints a suppressions file for the reports of saved JSON Lines: one KIND/WHAT:PATTERN line\n"
     "per distinct report (fingerprint), PATTERN the program's innermost frame, with the report\n"
     "as a comment. Fed back (THREADWATCH_SUPPRESS, run --suppress) it silences those reports.\n"
     "\n"
     "  -o, --output FILE        write to FILE instead of stdout"},
    {"dump", cmd_dump, "dump [-a|--all] [-j|--json] [--pprof[=KIND]|--folded[=KIND]|--contention] PID",
     "Prints the threads of PID, a process running under libthreadwatch.so: state, what each\n"
     "waits for and for how long, stacks, grouped by identical stacks (docs/dump.md); or one of\n"
     "its profiles (docs/profiles.md).\n"
     "\n"
     "  -a, --all                every thread on its own instead of groups\n"
     "  -j, --json               JSON\n"
     "      --pprof[=KIND]       profile KIND as gzipped pprof for `go tool pprof` (redirect it:\n"
     "                           > threads.pb.gz); KIND threads (default), block or mutex (block\n"
     "                           and mutex are recorded with THREADWATCH_PROFILE)\n"
     "      --folded[=KIND]      the same as folded stacks, for flame graphs\n"
     "      --profile KIND       the profile to print (with --format)\n"
     "      --format FORMAT      text (default), json, pprof or folded\n"
     "      --contention         the contention table (THREADWATCH_PROFILE), text or --json"},
    {"attach", cmd_attach, "attach [-a|--all] [-j|--json] [--pprof FILE] [--folded] PID",
     "Stops the threads of any PID for a moment (ptrace), prints their stacks and waits like\n"
     "dump, and a deadlock verdict; exit status 66 when there is a deadlock (docs/attach.md).\n"
     "\n"
     "  -a, --all                every thread on its own instead of groups\n"
     "  -j, --json               JSON\n"
     "      --pprof FILE         also write the thread profile to FILE, gzipped pprof for\n"
     "                           `go tool pprof` (one sample per thread, as dump --pprof);\n"
     "                           FILE - writes it to stdout instead of the dump\n"
     "      --folded             the thread profile as folded stacks instead of the dump\n"
     "\n"
     "Exit status: 0 no deadlock, 66 a deadlock (said on stderr when the output does not show\n"
     "it: --folded, --pprof -), 1 an error (a FILE that cannot be written), 2 for bad use."},
    {"options", cmd_options, "options [--markdown|--man]",
     "Lists the THREADWATCH_* options: name, default, accepted values, meaning.\n"
     "\n"
     "      --markdown           as the README's table\n"
     "      --man                as roff, for threadwatch(7)"},
    {"version", cmd_version, "version", "Prints the version."},
    {"help", cmd_help, "help [COMMAND]", "Prints the list of commands, or the help of COMMAND."},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

static void overview(FILE *f) {
  fprintf(f, "threadwatch %s: thread leaks, deadlocks, stalls and pthread misuse in unmodified\n"
             "programs (libthreadwatch.so, preloaded)\n\nusage:\n", TW_VERSION);
  for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  threadwatch %s\n", commands[i].usage);
  fprintf(f, "\nEvery command takes -h/--help and --version. Options are THREADWATCH_* variables\n"
             "(threadwatch options); man threadwatch and threadwatch(7) have the rest.\n");
}

int cli_help(const char *cmd, FILE *f) {
  const struct command *c = find_command(cmd);
  if (!c) return 2;
  fprintf(f, "usage: threadwatch %s\n\n%s\n", c->usage, c->help);
  return 0;
}

int cli_version(void) {
  printf("threadwatch %s\n", TW_VERSION);
  return 0;
}

int cli_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("threadwatch: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
  return 1;
}

int cli_misuse(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "threadwatch %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
  const struct command *c = find_command(cmd);
  if (c) fprintf(stderr, "usage: threadwatch %s\n", c->usage);
  fprintf(stderr, "(threadwatch %s --help for more)\n", cmd);
  return 2;
}

static int cmd_version(int argc, char **argv) {
  (void)argv;
  if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) return cli_help("version", stdout);
  if (argc > 1 && strcmp(argv[1], "--version") != 0)
    return cli_misuse("version", "unexpected argument '%s'", argv[1]);
  return cli_version();
}

static int cmd_help(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    if (argc >= 2) return cli_help("help", stdout);
    overview(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) return cli_version();
  if (cli_help(argv[1], stdout) != 0) {
    fprintf(stderr, "threadwatch help: no command '%s'\n", argv[1]);
    overview(stderr);
    return 2;
  }
  return 0;
}

/* getopt_long's message for an option it does not know has been printed: add the usage. */
static int bad_option(const char *cmd) {
  const struct command *c = find_command(cmd);
  if (c) fprintf(stderr, "usage: threadwatch %s\n(threadwatch %s --help for more)\n", c->usage, cmd);
  return 2;
}

/* --- options ----------------------------------------------------------------------------------- */

/* Text for roff: backslashes escaped, `code` in bold, a line never starts with a control dot. */
static void roff(const char *s) {
  bool code = false;
  for (; *s; s++) {
    if (*s == '\\') fputs("\\e", stdout);
    else if (*s == '`') fputs((code = !code) ? "\\fB" : "\\fR", stdout);
    else if (*s == '-') fputs("\\-", stdout);
    else fputc(*s, stdout);
  }
  if (code) fputs("\\fR", stdout);
}

int cmd_options(int argc, char **argv) {
  static const struct option longopts[] = {{"markdown", no_argument, NULL, 'm'},
                                           {"man", no_argument, NULL, 'r'},
                                           {"help", no_argument, NULL, CLI_OPT_HELP},
                                           {"version", no_argument, NULL, CLI_OPT_VERSION},
                                           {NULL, 0, NULL, 0}};
  int markdown = 0, c;
  optind = 0;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (c == 'm') markdown = 1;
    else if (c == 'r') markdown = 2;
    else if (c == CLI_OPT_HELP) return cli_help("options", stdout);
    else if (c == CLI_OPT_VERSION) return cli_version();
    else return bad_option("options");
  }
  if (optind < argc) return cli_misuse("options", "unexpected argument '%s'", argv[optind]);
  const char *name, *type, *def, *desc, *form;
  if (markdown == 1) {
    printf("| variable | default | accepted values | meaning |\n| --- | --- | --- | --- |\n");
  }
  for (size_t i = 0; tw__options_entry(i, &name, &type, &def, &desc, &form) == 0; i++) {
    if (markdown == 1)
      printf("| `THREADWATCH_%s` | `%s` | %s | %s |\n", name, def[0] ? def : "(empty)", form, desc);
    else if (markdown == 2) {
      printf(".TP\n.B THREADWATCH_%s\n", name);
      roff(desc);
      printf("\n.br\nDefault: ");
      roff(def[0] ? def : "(empty)");
      printf(". Accepts ");
      roff(form);
      printf(".\n");
    } else
      printf("THREADWATCH_%-14s default %-8s %s\n    accepts %s\n", name, def[0] ? def : "\"\"",
             desc, form);
  }
  return 0;
}

/* --- run ------------------------------------------------------------------------------------- */

/* `path` made absolute against the current directory into out[n] (not resolved: the file may not
 * exist yet, and %p stays). */
static void absolute(char *out, size_t n, const char *path) {
  char cwd[PATH_MAX];
  if (path[0] == '/' || !getcwd(cwd, sizeof(cwd))) snprintf(out, n, "%s", path);
  else
    snprintf(out, n, "%s/%s", strcmp(cwd, "/") ? cwd : "",
             path[0] == '.' && path[1] == '/' ? path + 2 : path);
}

/* The library to preload into lib[n]: THREADWATCH_LIB (or --lib), else next to this executable's
 * real location (a build tree), else the installed library directory relative to it. On failure
 * `tried` lists the places looked at. */
static int find_library(const char *given, char *lib, size_t n, char *tried, size_t tn) {
  tried[0] = '\0';
  if (given && *given) {
    char real[PATH_MAX];
    absolute(lib, n, given);
    snprintf(tried, tn, "%s", lib);
    if (access(lib, R_OK) != 0) return -ENOENT;
    if (realpath(lib, real)) snprintf(lib, n, "%s", real); /* ../.. and symlinks resolved */
    return 0;
  }
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return snprintf(tried, tn, "(/proc/self/exe unreadable)"), -ENOENT;
  self[len] = '\0';
  char *slash = strrchr(self, '/');
  if (slash) *slash = '\0';
  static const char *const places[] = {"", "/" TW_LIB_RELDIR, "/../lib", "/../lib64",
#ifdef TW_LIB_ARCH
                                       "/../lib/" TW_LIB_ARCH,
#endif
  };
  size_t tl = 0;
  for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
    snprintf(lib, n, "%s%s/libthreadwatch.so", self, places[i]);
    char real[PATH_MAX];
    if (access(lib, R_OK) == 0) {
      if (realpath(lib, real)) snprintf(lib, n, "%s", real);
      return 0;
    }
    if (tl < tn) tl += (size_t)snprintf(tried + tl, tn - tl, "%s%s", tl ? ", " : "", lib);
  }
  return -ENOENT;
}

/* What the ELF file at `path` says about preloading into it. */
struct elf_facts {
  bool elf;        /* it is an ELF executable we could read */
  bool interp;     /* it has a program interpreter (the dynamic loader): a preload can reach it */
  char asan[64];   /* the ASan runtime it needs (DT_NEEDED "libasan.so.8"), "" if none */
};

static bool read_at(int fd, void *buf, size_t n, off_t off) {
  return pread(fd, buf, n, off) == (ssize_t)n;
}

static void elf_look(const char *path, struct elf_facts *f) {
  memset(f, 0, sizeof(*f));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  Elf64_Ehdr eh;
  if (!read_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 512) {
    close(fd);
    return;
  }
  Elf64_Phdr ph[512];
  if (!read_at(fd, ph, sizeof(Elf64_Phdr) * eh.e_phnum, (off_t)eh.e_phoff)) {
    close(fd);
    return;
  }
  f->elf = true;
  const Elf64_Phdr *dyn = NULL;
  for (int i = 0; i < eh.e_phnum; i++) {
    if (ph[i].p_type == PT_INTERP) f->interp = true;
    if (ph[i].p_type == PT_DYNAMIC) dyn = &ph[i];
  }
  /* DT_NEEDED names: the dynamic section, its string table found through the load segments. */
  Elf64_Dyn d[1024];
  size_t nd = dyn ? dyn->p_filesz / sizeof(Elf64_Dyn) : 0;
  if (nd > 1024) nd = 1024;
  if (nd && read_at(fd, d, nd * sizeof(Elf64_Dyn), (off_t)dyn->p_offset)) {
    Elf64_Addr strtab = 0;
    for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++)
      if (d[i].d_tag == DT_STRTAB) strtab = d[i].d_un.d_ptr;
    off_t stroff = -1;
    for (int i = 0; i < eh.e_phnum && strtab; i++)
      if (ph[i].p_type == PT_LOAD && strtab >= ph[i].p_vaddr && strtab < ph[i].p_vaddr + ph[i].p_filesz)
        stroff = (off_t)(ph[i].p_offset + (strtab - ph[i].p_vaddr));
    for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL && stroff >= 0; i++) {
      if (d[i].d_tag != DT_NEEDED) continue;
      char name[64] = "";
      if (pread(fd, name, sizeof(name) - 1, stroff + (off_t)d[i].d_un.d_val) <= 0) continue;
      name[sizeof(name) - 1] = '\0';
      if (!strncmp(name, "libasan.so", 10) || !strncmp(name, "libclang_rt.asan", 16))
        snprintf(f->asan, sizeof(f->asan), "%s", name);
    }
  }
  close(fd);
}

/* The file execvp would run for `prog` into out[n]; false when there is none. */
static bool which(const char *prog, char *out, size_t n) {
  if (strchr(prog, '/')) {
    snprintf(out, n, "%s", prog);
    return access(out, X_OK) == 0;
  }
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path; *p;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    snprintf(out, n, "%.*s%s%s", (int)len, p, len ? "/" : "", prog);
    struct stat st;
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return true;
    p += len + (colon ? 1 : 0);
    if (!colon) break;
  }
  return false;
}

/* One THREADWATCH_ variable set from an option, checked with the library's own parser first so that
 * a bad value is refused here with the library's message. */
static int set_option(const char *flag, const char *name, const char *value) {
  char var[TW_OPT_STR_MAX + 64];
  snprintf(var, sizeof(var), "THREADWATCH_%s=%s", name, value);
  char *envp[] = {var, NULL};
  static struct tw_options o;
  char err[600] = "", warn[600] = "";
  if (tw__options_parse(&o, envp, err, sizeof(err), warn, sizeof(warn)) != 0) {
    fprintf(stderr, "%s (given as %s)\n", err, flag);
    return 2;
  }
  if (warn[0]) { /* only an unknown name warns: -o with a name the table does not have */
    fprintf(stderr, "threadwatch run: %s: unknown option '%s'", flag, name);
    char full[128];
    snprintf(full, sizeof(full), "THREADWATCH_%s", name);
    for (char *p = full; *p; p++) *p = (char)toupper((unsigned char)*p);
    const char *near = tw__options_closest(full);
    if (near) {
      fprintf(stderr, "; did you mean ");
      for (const char *p = near + strlen("THREADWATCH_"); *p; p++) fputc(tolower((unsigned char)*p), stderr);
      fprintf(stderr, "?");
    }
    fprintf(stderr, " (threadwatch options lists them)\n");
    return 2;
  }
  char envname[96];
  snprintf(envname, sizeof(envname), "THREADWATCH_%s", name);
  setenv(envname, value, 1);
  return 0;
}

/* Options whose value is a path: made absolute before they are exported. */
static bool path_option(const char *name, const char *value) {
  if (!strcmp(name, "LOG"))
    return strcmp(value, "stderr") && strcmp(value, "stdout") && strcmp(value, "/dev/stderr") &&
           strcmp(value, "/dev/stdout") && value[0];
  return value[0] && (!strcmp(name, "JSON") || !strcmp(name, "SARIF") || !strcmp(name, "SUPPRESS") ||
                      !strcmp(name, "SOURCE_ROOT") || !strcmp(name, "LIB"));
}

static int run_option(const char *flag, const char *name, const char *value) {
  char abs[PATH_MAX + 64];
  if (path_option(name, value)) {
    absolute(abs, sizeof(abs), value);
    value = abs;
  }
  if (!strcmp(name, "SUPPRESS") && access(value, R_OK) != 0)
    return fprintf(stderr, "threadwatch run: %s %s: %s\n", flag, value, strerror(errno)), 2;
  return set_option(flag, name, value);
}

/* A SARIF file that threadwatch wrote earlier is removed: processes that share a SARIF file add
 * their results to it, and a new run must not add to the last one's. Anything else is left for the
 * library to refuse. */
static void sarif_fresh(const char *path) {
  if (strstr(path, "%p")) return;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return;
  struct stat st;
  char tail[sizeof(TW_SARIF_TRAILER) - 1], head[16];
  bool ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (off_t)sizeof(tail) &&
              read_at(fd, head, sizeof(head), 0) && !memcmp(head, "{\"$schema\":", 11) &&
              read_at(fd, tail, sizeof(tail), st.st_size - (off_t)sizeof(tail)) &&
              !memcmp(tail, TW_SARIF_TRAILER, sizeof(tail));
  close(fd);
  if (ours) unlink(path);
}

int cmd_run(int argc, char **argv) {
  enum { O_SUPPRESS = 0x2000, O_STALL, O_EXITCODE, O_FAILON, O_SRCROOT, O_LIB };
  static const struct option longopts[] = {
      {"log", required_argument, NULL, 'l'},       {"json", required_argument, NULL, 'j'},
      {"sarif", required_argument, NULL, 's'},     {"suppress", required_argument, NULL, O_SUPPRESS},
      {"stall", required_argument, NULL, O_STALL}, {"exitcode", required_argument, NULL, O_EXITCODE},
      {"fail-on", required_argument, NULL, O_FAILON},
      {"source-root", required_argument, NULL, O_SRCROOT},
      {"option", required_argument, NULL, 'o'},    {"lib", required_argument, NULL, O_LIB},
      {"help", no_argument, NULL, CLI_OPT_HELP},   {"version", no_argument, NULL, CLI_OPT_VERSION},
      {NULL, 0, NULL, 0}};
  const char *lib_arg = NULL, *sarif = NULL;
  int c, rc = 0;
  optind = 0;
  /* '+': options end at PROGRAM, whose own options are its own. */
  while ((c = getopt_long(argc, argv, "+hl:j:s:o:", longopts, NULL)) != -1) {
    switch (c) {
      case 'l': rc = run_option("--log", "LOG", optarg); break;
      case 'j': rc = run_option("--json", "JSON", optarg); break;
      case 's':
        rc = run_option("--sarif", "SARIF", optarg);
        sarif = getenv("THREADWATCH_SARIF");
        break;
      case O_SUPPRESS: rc = run_option("--suppress", "SUPPRESS", optarg); break;
      case O_STALL: rc = run_option("--stall", "STALL", optarg); break;
      case O_EXITCODE: rc = run_option("--exitcode", "EXITCODE", optarg); break;
      case O_FAILON: rc = run_option("--fail-on", "FAIL_ON", optarg); break;
      case O_SRCROOT: rc = run_option("--source-root", "SOURCE_ROOT", optarg); break;
      case O_LIB: lib_arg = optarg; break;
      case 'o': {
        const char *eq = strchr(optarg, '=');
        if (!eq || eq == optarg)
          return cli_misuse("run", "-o %s: expected NAME=VALUE (threadwatch options lists the names)",
                            optarg);
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - optarg), optarg);
        const char *canon = tw__options_find(name);
        if (!canon) canon = name;
        rc = run_option("-o", canon, eq + 1);
        break;
      }
      case CLI_OPT_HELP: return cli_help("run", stdout);
      case CLI_OPT_VERSION: return cli_version();
      default: return bad_option("run");
    }
    if (rc) return rc;
  }
  if (optind >= argc) return cli_misuse("run", "no program to run");
  if (!lib_arg) lib_arg = getenv("THREADWATCH_LIB"); /* the environment's, or -o lib=... */
  char **prog = argv + optind;

  char lib[PATH_MAX + 64], tried[4 * PATH_MAX];
  if (find_library(lib_arg, lib, sizeof(lib), tried, sizeof(tried)) != 0)
    return cli_fail("cannot find libthreadwatch.so (looked at %s); set THREADWATCH_LIB or use "
                    "--lib", tried), 2;
  setenv("THREADWATCH_LIB", lib, 1); /* absolute: children that change directory find it too */
  if (sarif) sarif_fresh(sarif);

  /* What the program is: statically linked (nothing to preload into), or built with ASan (its
   * runtime must come first in the list of preloaded libraries). */
  char file[PATH_MAX];
  struct elf_facts ef = {0};
  if (which(prog[0], file, sizeof(file))) elf_look(file, &ef);
  if (ef.elf && !ef.interp)
    fprintf(stderr, "threadwatch: warning: %s is statically linked: no library can be preloaded "
                    "into it, so threadwatch sees nothing of it (link it dynamically)\n", prog[0]);

  const char *old = getenv("LD_PRELOAD");
  bool old_asan = old && (strstr(old, "libasan") || strstr(old, "clang_rt.asan"));
  char preload[4 * PATH_MAX];
  if (old && *old && old_asan) snprintf(preload, sizeof(preload), "%s:%s", old, lib);
  else if (ef.asan[0] && old && *old) snprintf(preload, sizeof(preload), "%s:%s:%s", ef.asan, lib, old);
  else if (ef.asan[0]) snprintf(preload, sizeof(preload), "%s:%s", ef.asan, lib);
  else if (old && *old) snprintf(preload, sizeof(preload), "%s:%s", lib, old);
  else snprintf(preload, sizeof(preload), "%s", lib);
  setenv("LD_PRELOAD", preload, 1);
  execvp(prog[0], prog);
  int e = errno;
  cli_fail("cannot run %s: %s", prog[0], strerror(e));
  return e == ENOENT ? 127 : 126;
}

/* --- threadwatch dump PID: ask a running process for its thread dump (docs/dump.md) --- */

/* How long the CLI waits for the process to say something. The process looks at its socket every
 * 100 ms and renders the whole dump before sending it; 5 s covers a large dump on a busy
 * machine. */
#define DUMP_ANSWER_MS 5000

#define dump_fail cli_fail

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

/* The process a thread id belongs to (Tgid of /proc/ID/status), or 0 when unknown. A thread id
 * is a valid /proc entry, though not listed: dump and attach would otherwise look at the whole
 * process under a wrong number. */
long tw_cli_tgid(long id) {
  char path[64], *line = NULL;
  size_t cap = 0;
  long tgid = 0;
  snprintf(path, sizeof(path), "/proc/%ld/status", id);
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  while (getline(&line, &cap, f) > 0)
    if (strncmp(line, "Tgid:", 5) == 0) {
      tgid = strtol(line + 5, NULL, 10);
      break;
    }
  free(line);
  fclose(f);
  return tgid;
}

/* The process exists, we may look at it, and it has libthreadwatch.so mapped. Sets *owner to its
 * uid. Returns 0, or 1 after saying why not. */
static int dump_check_process(long pid, uid_t *owner) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%ld", pid);
  if (stat(path, &st) != 0) return dump_fail("no process %ld", pid);
  long tgid = tw_cli_tgid(pid);
  if (tgid > 0 && tgid != pid)
    return dump_fail("%ld is a thread of process %ld, not a process: threadwatch dump %ld", pid,
                     tgid, tgid);
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

/* THE profile kinds dump --pprof/--folded/--profile take (report/profiles.h's names). */
static bool profile_kind_ok(const char *k) {
  return !strcmp(k, "threads") || !strcmp(k, "block") || !strcmp(k, "mutex");
}

enum { DUMP_OPT_PPROF = 0x2000, DUMP_OPT_FOLDED, DUMP_OPT_FORMAT, DUMP_OPT_PROFILE,
       DUMP_OPT_CONTENTION };

int cmd_dump(int argc, char **argv) {
  static const struct option longopts[] = {{"all", no_argument, NULL, 'a'},
                                           {"json", no_argument, NULL, 'j'},
                                           {"pprof", optional_argument, NULL, DUMP_OPT_PPROF},
                                           {"folded", optional_argument, NULL, DUMP_OPT_FOLDED},
                                           {"format", required_argument, NULL, DUMP_OPT_FORMAT},
                                           {"profile", required_argument, NULL, DUMP_OPT_PROFILE},
                                           {"contention", no_argument, NULL, DUMP_OPT_CONTENTION},
                                           {"help", no_argument, NULL, CLI_OPT_HELP},
                                           {"version", no_argument, NULL, CLI_OPT_VERSION},
                                           {NULL, 0, NULL, 0}};
  bool all = false, json = false, contention = false;
  const char *format = "text", *kind = NULL;
  int c;
  optind = 0;
  while ((c = getopt_long(argc, argv, "ajh", longopts, NULL)) != -1) {
    if (c == 'a') all = true;
    else if (c == 'j') json = true;
    else if (c == DUMP_OPT_PPROF || c == DUMP_OPT_FOLDED) {
      format = c == DUMP_OPT_PPROF ? "pprof" : "folded";
      if (optarg) kind = optarg;
    } else if (c == DUMP_OPT_FORMAT) format = optarg;
    else if (c == DUMP_OPT_PROFILE) kind = optarg;
    else if (c == DUMP_OPT_CONTENTION) contention = true;
    else if (c == CLI_OPT_HELP) return cli_help("dump", stdout);
    else if (c == CLI_OPT_VERSION) return cli_version();
    else return bad_option("dump");
  }
  if (!strcmp(format, "json")) json = true, format = "text";
  bool profile = !strcmp(format, "pprof") || !strcmp(format, "folded");
  if (kind && !profile && strcmp(format, "text") == 0) format = "pprof", profile = true;
  if (strcmp(format, "text") != 0 && !profile)
    return cli_misuse("dump", "--format takes text, json, pprof or folded, not '%s'", format);
  if (kind && !profile_kind_ok(kind))
    return cli_misuse("dump", "a profile is threads, block or mutex, not '%s'", kind);
  if ((profile && (all || json || contention)) || (contention && all))
    return cli_misuse("dump", "one of: the dump (--all, --json), a profile (--pprof, --folded), "
                              "the contention table (--contention [--json])");
  if (optind >= argc) return cli_misuse("dump", "no PID given");
  if (optind + 1 < argc) return cli_misuse("dump", "one PID only (got '%s' too)", argv[optind + 1]);
  const char *pid_arg = argv[optind];
  char *end = NULL;
  long pid = strtol(pid_arg, &end, 10);
  if (*end != '\0' || pid <= 0 || end == pid_arg)
    return cli_misuse("dump", "'%s' is not a process id", pid_arg);
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

/* --- main ---------------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  if (argc < 2) {
    overview(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) return overview(stdout), 0;
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "-v")) return cli_version();
  const struct command *c = find_command(cmd);
  if (!c) {
    fprintf(stderr, "threadwatch: unknown command '%s'%s\n", cmd,
            cmd[0] == '-' ? " (options come after the command: threadwatch run --json F -- PROGRAM)" : "");
    overview(stderr);
    return 2;
  }
  /* The command sees itself as argv[0], named so in getopt's own messages. */
  char self[64];
  snprintf(self, sizeof(self), "threadwatch %s", c->name);
  argv[1] = self;
  return c->fn(argc - 1, argv + 1);
}
