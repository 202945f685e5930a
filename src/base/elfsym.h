/* Data symbols by name in the loaded executable and libraries, from their full symbol tables. */
#ifndef TW_ELFSYM_H
#define TW_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_elfsym {
  uintptr_t addr;    /* run-time address (load bias applied) */
  size_t size;       /* st_size; 0 when the symbol has none */
  int type;          /* STT_OBJECT, STT_COMMON, STT_NOTYPE, ... */
  int local;         /* 1: STB_LOCAL (a `static` global, found in .symtab only) */
  char module[256];  /* the file it was found in */
};

/* Finds the data symbol `name` in the modules loaded now: the executable first, then each library
 * in load order. A C++ global is found by its source name too (`accounts`, `bank::ledger_lock`):
 * a mangled symbol matches when its demangled form is `name`. Each module's .symtab (every symbol of an unstripped file, `static` ones included)
 * and .dynsym are read with libelf; the first module that has the name wins, a global or weak
 * definition before a local one. Not async-signal-safe (opens files, allocates): call it at
 * start-up or from an API call.
 * Returns 0 and fills *out, or:
 *   -ENOENT  no module defines it;
 *   -EISDIR  it names a function (STT_FUNC or STT_GNU_IFUNC), not data;
 *   -EBADSLT it is thread-local (STT_TLS): every thread has its own copy;
 *   -ENOTUNIQ  several local symbols of that name in one module (two `static` variables);
 *   -ENODATA   it has no size (an assembler label): give an address range instead.
 * For the errors, out->module names the module concerned (when one is). */
int tw_elfsym_lookup(const char *name, struct tw_elfsym *out);

/* The same search in one ELF file loaded at `bias` (tests; tw_elfsym_lookup calls it per module).
 * Returns as above; -EIO when the file cannot be read as ELF. */
int tw_elfsym_lookup_file(const char *path, uintptr_t bias, const char *name,
                          struct tw_elfsym *out);

/* Whether the executable's symbol tables hold a mangled C++ name (_Z...): it is a C++ program. */
bool tw_elfsym_exe_has_mangled(void);

#endif
