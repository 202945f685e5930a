/* threadwatch CLI: run a program under the preloaded library, print the option table. */
#include <errno.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: threadwatch run [--] PROGRAM [ARGS...]   run PROGRAM with libthreadwatch.so preloaded\n"
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

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 2, argv + 2);
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
