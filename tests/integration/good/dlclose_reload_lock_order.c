/* Issue 11 item 14: a library with two statically initialised mutexes is loaded, takes them A then
 * B, and is unloaded with dlclose; loaded again (at the same address: glibc reuses the range), it
 * takes them B then A. The second load's mutexes are new locks that merely reuse the addresses, so
 * there is no lock-order cycle; threadwatch kept the first load's edge A -> B and reported one.
 * Unloading a module must forget the locks inside its range. Must stay silent.
 * The library is compiled at run time from the source below (cc, or $CC), with a clean environment.
 * If the second load lands elsewhere 20 times in a row the bug cannot show: exit 99 (no
 * verdict). */
#include <dlfcn.h>
#include <spawn.h>
#include <sys/wait.h>

#include "tw_test.h"

extern char **environ;

static const char lib_src[] =
    "#include <pthread.h>\n"
    "static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;\n"
    "void lock_ab(void) { pthread_mutex_lock(&a); pthread_mutex_lock(&b);\n"
    "                     pthread_mutex_unlock(&b); pthread_mutex_unlock(&a); }\n"
    "void lock_ba(void) { pthread_mutex_lock(&b); pthread_mutex_lock(&a);\n"
    "                     pthread_mutex_unlock(&a); pthread_mutex_unlock(&b); }\n"
    "void *addr_a(void) { return &a; }\n";

static void build_library(const char *dir, char *so, size_t n) {
  char src[512];
  snprintf(src, sizeof src, "%s/tw_reload_lib.c", dir);
  snprintf(so, n, "%s/tw_reload_lib.so", dir);
  FILE *f = fopen(src, "w");
  TW_CHECK(f != NULL);
  fputs(lib_src, f);
  fclose(f);
  const char *cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
  char *argv[] = {(char *)cc, "-shared", "-fPIC", "-O1", "-pthread", "-o", so, src, NULL};
  char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", NULL}; /* no LD_PRELOAD for the compiler */
  pid_t pid;
  TW_CHECK(posix_spawnp(&pid, cc, NULL, NULL, argv, envp) == 0);
  int st;
  TW_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void *load(const char *so, void (**fn)(void), const char *name, void **a) {
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!h) fprintf(stderr, "dlopen: %s\n", dlerror());
  TW_CHECK(h != NULL);
  *(void **)fn = dlsym(h, name);
  void *(*addr_a)(void);
  *(void **)&addr_a = dlsym(h, "addr_a");
  TW_CHECK(*fn != NULL && addr_a != NULL);
  *a = addr_a();
  return h;
}

int main(void) {
  char dir[] = "/tmp/tw-reload.XXXXXX", so[600];
  TW_CHECK(mkdtemp(dir) != NULL);
  build_library(dir, so, sizeof so);
  void (*fn)(void), *a1, *a2;
  void *h = load(so, &fn, "lock_ab", &a1);
  fn(); /* first load: A then B */
  TW_CHECK(dlclose(h) == 0);
  int tries = 0;
  for (;;) {
    h = load(so, &fn, "lock_ba", &a2);
    if (a2 == a1) break;
    TW_CHECK(dlclose(h) == 0);
    if (++tries == 20) {
      fprintf(stderr, "the library never came back at the same address: no verdict\n");
      exit(99);
    }
  }
  fn(); /* second load, same addresses: B then A */
  TW_CHECK(dlclose(h) == 0);
  char path[700];
  snprintf(path, sizeof path, "%s/tw_reload_lib.c", dir);
  unlink(path);
  unlink(so);
  rmdir(dir);
  return 0;
}
