/* C++ demangling through the process's own __cxa_demangle (demangle.h). */
#include "base/demangle.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/atomic.h"
#include "base/elfsym.h"

typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);
static demangle_fn demangler;
static _Atomic int looked;

void tw_demangle_init(void) {
  if (tw_load_acquire(&looked)) return;
  demangle_fn fn = (demangle_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "__cxa_demangle");
  if (!fn && tw_elfsym_exe_has_mangled()) {
    void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
    if (h) fn = (demangle_fn)(uintptr_t)dlsym(h, "__cxa_demangle");
  }
  demangler = fn;
  tw_store_release(&looked, 1);
}

char *tw_demangle(const char *name) {
  if (!name || name[0] != '_' || name[1] != 'Z') return NULL;
  if (!tw_load_acquire(&looked)) return NULL; /* before initialisation: no lookups from here */
  if (!demangler) return NULL;
  int status = -1;
  char *d = demangler(name, NULL, NULL, &status);
  if (status == 0 && d) return d;
  free(d);
  return NULL;
}
