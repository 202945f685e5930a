/* Symbolization with libdw's Dwfl over /proc/self/maps: function (inline chains included), file,
 * line, module; results cached per pc. */
#include "report/symbolize.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>

#include "base/limits.h"

#include "base/tw.h"

struct sym_entry {
  uintptr_t pc;
  int n;
  struct tw_frame f[TW_MAX_INLINE];
  char *owned[TW_MAX_INLINE + 1]; /* demangled names; the last slot is the symbol table's */
  UT_hash_handle hh;
};

/* libdw keeps the ELF and .debug files it opens for as long as the session lives. Opened with the
 * lowest free numbers and without close-on-exec, they would shift the numbers of the application's
 * next opens and leak into its exec'd children: each is moved to TW_TOOL_FD_BASE or above,
 * close-on-exec, before libdw sees it (only a bare fd: an Elf made from it already knows its number). */
static int tool_fd(int fd, Elf **elfp) {
  if (fd < 0 || (elfp && *elfp)) return fd;
  int high = fcntl(fd, F_DUPFD_CLOEXEC, TW_TOOL_FD_BASE);
  if (high < 0) return fd;
  close(fd);
  return high;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
                    char **file_name, Elf **elfp) {
  return tool_fd(dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp), elfp);
}

static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                          char **debuginfo_file_name) {
  return tool_fd(dwfl_standard_find_debuginfo(mod, userdata, name, base, file_name, debuglink_file,
                                              debuglink_crc, debuginfo_file_name),
                 NULL);
}

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = find_elf,
    .find_debuginfo = find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};
static Dwfl *dwfl;
static struct sym_entry *cache;
static char *(*demangle)(const char *, char *, size_t *, int *);
static int demangle_looked;

static Dwfl *session(int refresh) {
  if (dwfl && !refresh) return dwfl;
  if (!dwfl && !(dwfl = dwfl_begin(&callbacks))) return NULL;
  dwfl_report_begin(dwfl);
  /* The calling thread's own /proc entry: /proc/PID/maps is empty once the initial thread has
   * left (main called pthread_exit), /proc/TID/maps never is. */
  dwfl_linux_proc_report(dwfl, gettid());
  dwfl_report_end(dwfl, NULL, NULL);
  return dwfl;
}

/* A C++ name demangled (kept in e->owned[slot]), or the name as it is. */
static const char *pretty(struct sym_entry *e, int slot, const char *name) {
  if (!name || name[0] != '_' || name[1] != 'Z') return name;
  if (!demangle_looked) {
    /* Only C++ programs have mangled names, and they load libstdc++, which has the demangler. */
    demangle = (char *(*)(const char *, char *, size_t *, int *))(uintptr_t)dlsym(RTLD_DEFAULT,
                                                                                  "__cxa_demangle");
    demangle_looked = 1;
  }
  if (!demangle) return name;
  int status = -1;
  char *d = demangle(name, NULL, NULL, &status);
  if (status != 0 || !d) {
    free(d);
    return name;
  }
  free(e->owned[slot]);
  e->owned[slot] = d;
  return d;
}

/* The name of a subprogram or inlined-subroutine DIE, following abstract origins. */
static const char *die_name(Dwarf_Die *die) {
  Dwarf_Attribute attr;
  const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (!n) n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  if (!n) n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
  return n;
}

static int is_function(Dwarf_Die *d) {
  int tag = dwarf_tag(d);
  return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram;
}

/* The innermost function-like scope enclosing `die` (excluding itself when skip_self). */
static int enclosing_function(Dwarf_Die *scopes, int n, int from, Dwarf_Die *out) {
  for (int i = from; i < n; i++) {
    if (is_function(&scopes[i])) {
      *out = scopes[i];
      return 1;
    }
  }
  return 0;
}

/* Fills e->f[] with the inline chain at addr, innermost first; f[0] already has the innermost
 * file/line from the line table. Each inlined frame's caller location is its DW_AT_call_file/line.
 * A chain longer than TW_MAX_INLINE (C++ templates: std::async inlines twenty frames of library
 * headers into its caller) keeps its innermost frames and, in the last slot, the outermost one:
 * the function the code is really in, which reports name (it was cut before, and a leak created by
 * std::async said "created at _start"). */
static void inline_chain(struct sym_entry *e, Dwfl_Module *m, Dwarf_Addr addr) {
  Dwarf_Addr bias = 0;
  Dwarf_Die *cu = dwfl_module_addrdie(m, addr, &bias);
  if (!cu) return;
  Dwarf_Die *scopes = NULL;
  int ns = dwarf_getscopes(cu, addr - bias, &scopes);
  if (ns <= 0) return;
  Dwarf_Die cur;
  int found = enclosing_function(scopes, ns, 0, &cur);
  free(scopes);
  Dwarf_Files *files = NULL;
  size_t nfiles = 0;
  dwarf_getsrcfiles(cu, &files, &nfiles);
  const char *file = e->f[0].file;
  int line = e->f[0].line;
  int n = 0;
  for (int depth = 0; found && depth < 256; depth++) {
    int slot = n < TW_MAX_INLINE ? n : TW_MAX_INLINE - 1; /* past the end: the last slot again */
    struct tw_frame *f = &e->f[slot];
    *f = e->f[0];
    f->file = file;
    f->line = line;
    const char *name = die_name(&cur);
    if (name) f->function = pretty(e, slot, name);
    f->inlined = dwarf_tag(&cur) == DW_TAG_inlined_subroutine;
    if (n < TW_MAX_INLINE) n++;
    if (!f->inlined) break;
    /* The next frame out is where this one was inlined: its call site. */
    Dwarf_Attribute attr;
    Dwarf_Word cfile = 0, cline = 0;
    if (dwarf_formudata(dwarf_attr(&cur, DW_AT_call_line, &attr), &cline) == 0) line = (int)cline;
    if (files && dwarf_formudata(dwarf_attr(&cur, DW_AT_call_file, &attr), &cfile) == 0 &&
        cfile < nfiles) {
      const char *fn = dwarf_filesrc(files, cfile, NULL, NULL);
      if (fn) file = fn;
    }
    Dwarf_Die *parents = NULL;
    int np = dwarf_getscopes_die(&cur, &parents);
    found = np > 0 && enclosing_function(parents, np, 1, &cur);
    free(parents);
  }
  if (n > 0) {
    e->f[n - 1].inlined = 0;
    e->n = n;
  }
}

int tw_symbolize(uintptr_t pc, struct tw_frame *out, int max) {
  struct sym_entry *e = NULL;
  HASH_FIND(hh, cache, &pc, sizeof(pc), e);
  if (!e) {
    e = calloc(1, sizeof(*e));
    if (!e) {
      out[0] = (struct tw_frame){pc, 0, "??", NULL, 0, "??"};
      return 1;
    }
    e->pc = pc;
    e->n = 1;
    e->f[0] = (struct tw_frame){pc, 0, "??", NULL, 0, "??"};
    Dwarf_Addr addr = pc ? pc - 1 : 0; /* the call instruction, not the one after it */
    Dwfl *d = session(0);
    Dwfl_Module *m = d ? dwfl_addrmodule(d, addr) : NULL;
    if (!m && d) { /* a library loaded since the last look */
      d = session(1);
      m = d ? dwfl_addrmodule(d, addr) : NULL;
    }
    if (m) {
      const char *mainfile = NULL;
      const char *modname = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
      e->f[0].module = mainfile ? mainfile : modname ? modname : "??";
      const char *name = dwfl_module_addrname(m, addr);
      if (name) e->f[0].function = pretty(e, TW_MAX_INLINE, name);
      Dwfl_Line *line = dwfl_module_getsrc(m, addr);
      if (line) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if (file && lineno > 0) {
          e->f[0].file = file;
          e->f[0].line = lineno;
        }
        /* The symbol table names the outermost function; DWARF scopes add what was inlined. */
        struct tw_frame outer = e->f[0];
        inline_chain(e, m, addr);
        if (e->n > 1 && !e->f[e->n - 1].inlined && outer.function && strcmp(outer.function, "??"))
          e->f[e->n - 1].function = outer.function;
      }
    }
    HASH_ADD(hh, cache, pc, sizeof(pc), e);
  }
  int n = e->n < max ? e->n : max;
  memcpy(out, e->f, sizeof(*out) * (size_t)n);
  return n;
}

bool tw_symbolize_data(uintptr_t addr, char *out, size_t n) {
  out[0] = '\0';
  Dwfl *d = session(0);
  Dwfl_Module *m = d ? dwfl_addrmodule(d, addr) : NULL;
  if (!m) return false;
  GElf_Off off = 0;
  GElf_Sym sym;
  const char *name = dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
  if (!name || (GELF_ST_TYPE(sym.st_info) != STT_OBJECT && GELF_ST_TYPE(sym.st_info) != STT_TLS))
    return false;
  if (off) snprintf(out, n, "%s+%llu", name, (unsigned long long)off);
  else snprintf(out, n, "%s", name);
  return true;
}

void tw_symbolize_reset(void) {
  struct sym_entry *e, *tmp;
  HASH_ITER(hh, cache, e, tmp) {
    HASH_DEL(cache, e);
    for (int i = 0; i <= TW_MAX_INLINE; i++) free(e->owned[i]);
    free(e);
  }
  if (dwfl) dwfl_end(dwfl);
  dwfl = NULL;
}
