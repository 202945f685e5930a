/* Symbolization with libdw's Dwfl over /proc/self/maps: function (inline chains included), file,
 * line, module, module offset and build-id; results cached per pc. */
#include "report/symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uthash.h>

#include "base/demangle.h"
#include "base/limits.h"
#include "base/options.h"
#include "base/tw.h"

/* A cached pc: its frames, innermost first. Every string a frame points to is interned below, so
 * it outlives the libdw module it came from (a session refresh frees modules that are gone). */
struct sym_entry {
  uintptr_t pc;
  int n;
  UT_hash_handle hh;
  struct tw_frame f[];
};

/* ---------------------------------------------------------------------------------------------
 * Interned strings: one copy of each function, file, module name and build-id, kept until
 * tw_symbolize_reset(). Bounded by the distinct names the reports mention.
 * --------------------------------------------------------------------------------------------- */

struct istr {
  UT_hash_handle hh;
  char s[];
};
static struct istr *strings;

static const char *intern(const char *s) {
  if (!s) return NULL;
  size_t len = strlen(s);
  struct istr *e = NULL;
  HASH_FIND(hh, strings, s, len, e);
  if (e) return e->s;
  if (!(e = malloc(sizeof(*e) + len + 1))) return "??";
  memcpy(e->s, s, len + 1);
  HASH_ADD_KEYPTR(hh, strings, e->s, len, e);
  return e->s;
}

/* ---------------------------------------------------------------------------------------------
 * The libdw session and its callbacks.
 * --------------------------------------------------------------------------------------------- */

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

/* Whether the ELF file open on fd has the build-id `id` (len bytes). */
static bool has_build_id(int fd, const unsigned char *id, int len) {
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (!elf) return false;
  const void *bits = NULL;
  ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);
  bool same = n == len && memcmp(bits, id, (size_t)len) == 0;
  elf_end(elf);
  return same;
}

/* Opens `path` if it is a regular file other than the module's own file (`self`). */
static int open_candidate(const char *path, const struct stat *self) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      (self && st.st_dev == self->st_dev && st.st_ino == self->st_ino)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The debug file named by a .gnu_debuglink (`link`) of `file`, searched where gdb and libdw look:
 * next to the file, in its .debug/ directory, and under /usr/lib/debug/ + its directory. With a
 * build-id, a candidate must carry the same one. An absolute `link` (a dwz .gnu_debugaltlink) is
 * opened as it is. Returns an fd and sets *found (malloc'd path), or -1. */
static int find_by_debuglink(Dwfl_Module *mod, const char *file, const char *link, char **found) {
  if (!link || !link[0]) return -1;
  if (link[0] == '/') {
    int fd = open_candidate(link, NULL);
    if (fd >= 0) *found = strdup(link);
    return fd;
  }
  if (!file || file[0] != '/') return -1;
  struct stat self;
  bool have_self = stat(file, &self) == 0;
  const char *slash = strrchr(file, '/');
  int dirlen = (int)(slash - file);
  const unsigned char *id = NULL;
  GElf_Addr vaddr;
  int idlen = dwfl_module_build_id(mod, &id, &vaddr);
  static const char *const forms[] = {"%.*s/%s", "%.*s/.debug/%s", "/usr/lib/debug%.*s/%s"};
  for (size_t i = 0; i < TW_ARRAY_LEN(forms); i++) {
    char path[4096];
    if (snprintf(path, sizeof(path), forms[i], dirlen, file, link) >= (int)sizeof(path)) continue;
    int fd = open_candidate(path, have_self ? &self : NULL);
    if (fd < 0) continue;
    if (idlen > 0 && !has_build_id(fd, id, idlen)) {
      close(fd);
      continue;
    }
    *found = strdup(path);
    return fd;
  }
  return -1;
}

/* Separate debug info, found locally: /usr/lib/debug/.build-id/, then the .gnu_debuglink search.
 * libdw's standard callback would then ask the debuginfod servers of DEBUGINFOD_URLS: its client
 * (libcurl) opens sockets on the lowest free fds, not close-on-exec, that stay open, and in a
 * program that closed stderr the text report went into one of them (issue 11 item 9). That
 * happens only with THREADWATCH_DEBUGINFOD=1. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                          char **debuginfo_file_name) {
  int fd;
  if (tw__opt.debuginfod) {
    fd = dwfl_standard_find_debuginfo(mod, userdata, name, base, file_name, debuglink_file,
                                      debuglink_crc, debuginfo_file_name);
  } else {
    fd = dwfl_build_id_find_debuginfo(mod, userdata, name, base, file_name, debuglink_file,
                                      debuglink_crc, debuginfo_file_name);
    if (fd < 0) fd = find_by_debuglink(mod, file_name, debuglink_file, debuginfo_file_name);
  }
  return tool_fd(fd, NULL);
}

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = find_elf,
    .find_debuginfo = find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};
static Dwfl *dwfl;
static struct sym_entry *cache;
static int target_pid; /* 0: this process (the library); another pid: `threadwatch attach` */

/* Compile units by address, per module, for modules without .debug_aranges (below). */
struct cu_range {
  Dwarf_Addr lo, hi; /* DWARF addresses */
  Dwarf_Off die;     /* the CU DIE's offset */
};
struct cu_index {
  Dwfl_Module *mod;
  size_t n;
  struct cu_range *r; /* sorted by lo */
  UT_hash_handle hh;
};
static struct cu_index *cu_indexes;

static void forget_cu_indexes(void) {
  struct cu_index *x, *tmp;
  HASH_ITER(hh, cu_indexes, x, tmp) {
    HASH_DEL(cu_indexes, x);
    free(x->r);
    free(x);
  }
}

static Dwfl *session(int refresh) {
  if (dwfl && !refresh) return dwfl;
  if (!dwfl && !(dwfl = dwfl_begin(&callbacks))) return NULL;
  /* A refresh drops modules that are gone, and with them the Dwfl_Module pointers the CU indexes
   * are keyed by; cached frames hold interned copies of their strings, never libdw's. */
  forget_cu_indexes();
  dwfl_report_begin(dwfl);
  /* The calling thread's own /proc entry: /proc/PID/maps is empty once the initial thread has
   * left (main called pthread_exit), /proc/TID/maps never is. The CLI names a live thread of the
   * process it attached to. */
  dwfl_linux_proc_report(dwfl, target_pid ? target_pid : gettid());
  dwfl_report_end(dwfl, NULL, NULL);
  return dwfl;
}

/* Whether `addr` lies in a file mapping of this process now (/proc/thread-self/maps). A pc in no
 * file (garbage from a stack, JIT code) is no reason to rebuild the session. */
static bool in_file_mapping(uintptr_t addr) {
  int fd = open("/proc/thread-self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true; /* cannot tell: let the refresh decide */
  char buf[4096];
  size_t have = 0;
  int found = -1; /* -1: no mapping seen yet; 0: an anonymous one; 1: a file's */
  ssize_t k;
  while (found < 0 && (k = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
    have += (size_t)k;
    buf[have] = '\0';
    char *line = buf, *nl;
    while (found < 0 && (nl = strchr(line, '\n'))) {
      *nl = '\0';
      unsigned long lo, hi;
      if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi)
        found = strchr(line, '/') != NULL;
      line = nl + 1;
    }
    have -= (size_t)(line - buf); /* keep the unfinished line */
    memmove(buf, line, have);
    if (have == sizeof(buf) - 1) have = 0; /* a line longer than the buffer: skip it */
  }
  close(fd);
  return found > 0;
}

/* ---------------------------------------------------------------------------------------------
 * Finding the compile unit of an address.
 * --------------------------------------------------------------------------------------------- */

static int by_lo(const void *a, const void *b) {
  const struct cu_range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Every address range of every CU of `dw`, sorted: built once per module, at its first lookup
 * that libdw's own (aranges) lookup missed. */
static struct cu_index *cu_index_of(Dwfl_Module *m, Dwarf *dw) {
  struct cu_index *x = NULL;
  HASH_FIND(hh, cu_indexes, &m, sizeof(m), x);
  if (x) return x;
  if (!(x = calloc(1, sizeof(*x)))) return NULL;
  x->mod = m;
  size_t cap = 0;
  Dwarf_CU *cu = NULL;
  Dwarf_Die cudie;
  uint8_t unit_type;
  while (dwarf_get_units(dw, cu, &cu, NULL, &unit_type, &cudie, NULL) == 0) {
    if (unit_type != DW_UT_compile && unit_type != DW_UT_partial && unit_type != DW_UT_skeleton)
      continue;
    Dwarf_Addr base, lo, hi;
    for (ptrdiff_t o = 0; (o = dwarf_ranges(&cudie, o, &base, &lo, &hi)) > 0;) {
      if (lo >= hi) continue;
      if (x->n == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        struct cu_range *g = realloc(x->r, ncap * sizeof(*g));
        if (!g) break;
        x->r = g;
        cap = ncap;
      }
      x->r[x->n++] = (struct cu_range){lo, hi, dwarf_dieoffset(&cudie)};
    }
  }
  if (x->n) qsort(x->r, x->n, sizeof(*x->r), by_lo);
  HASH_ADD(hh, cu_indexes, mod, sizeof(Dwfl_Module *), x);
  return x;
}

/* The CU DIE that covers `addr` (a Dwfl address) and the bias between Dwfl and DWARF addresses.
 * libdw finds it through .debug_aranges, which clang does not emit: with elfutils 0.188 the lookup
 * then fails (dwfl_module_addrdie returns NULL, so does dwfl_module_getsrc; dyninst met the same),
 * and every frame of a clang-built program lost its file:line and inline frames. Then the CU's
 * own ranges (DW_AT_low_pc/high_pc, DW_AT_ranges, DWARF 5 rnglists) are searched instead. */
static bool find_cu(Dwfl_Module *m, Dwarf_Addr addr, Dwarf_Die *out, Dwarf_Addr *bias) {
  Dwarf_Die *die = dwfl_module_addrdie(m, addr, bias);
  if (die) {
    *out = *die;
    return true;
  }
  Dwarf *dw = dwfl_module_getdwarf(m, bias);
  if (!dw) return false;
  struct cu_index *x = cu_index_of(m, dw);
  if (!x || !x->n) return false;
  Dwarf_Addr a = addr - *bias;
  size_t lo = 0, hi = x->n; /* the first range with r.lo > a */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (x->r[mid].lo <= a) lo = mid + 1;
    else hi = mid;
  }
  /* Ranges of different CUs do not overlap in practice; look back a few in case they do. */
  for (size_t i = lo, k = 0; i > 0 && k < 8; i--, k++)
    if (a >= x->r[i - 1].lo && a < x->r[i - 1].hi) return dwarf_offdie(dw, x->r[i - 1].die, out);
  return false;
}

/* ---------------------------------------------------------------------------------------------
 * Names and inline chains.
 * --------------------------------------------------------------------------------------------- */

/* A C++ name demangled, or the name as it is; interned either way. */
static const char *pretty(const char *name) {
  char *d = tw_demangle(name);
  const char *s = intern(d ? d : name);
  free(d);
  return s;
}

/* The name of a subprogram or inlined-subroutine DIE, following abstract origins; *linkage says
 * whether it is the (mangled, fully qualified) linkage name. */
static const char *die_name(Dwarf_Die *die, bool *linkage) {
  Dwarf_Attribute attr;
  const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (!n) n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  *linkage = n != NULL;
  if (!n) n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
  return n;
}

static int is_function(Dwarf_Die *d) {
  int tag = dwarf_tag(d);
  return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram;
}

/* The innermost function-like scope among scopes[from..n). */
static int enclosing_function(Dwarf_Die *scopes, int n, int from, Dwarf_Die *out) {
  for (int i = from; i < n; i++) {
    if (is_function(&scopes[i])) {
      *out = scopes[i];
      return 1;
    }
  }
  return 0;
}

/* A source file name as one absolute path, interned: a relative name (clang records names relative
 * to the compilation directory) joined to the CU's DW_AT_comp_dir, and "." and "dir/.." taken out
 * lexically (clang's libstdc++ headers are /usr/bin/../lib/gcc/x86_64-linux-gnu/12/../../../../
 * include/c++/12/future: /usr/include/c++/12/future, a system header). */
static const char *source_path(Dwarf_Die *cu, const char *name) {
  char joined[4096];
  const char *dir = NULL;
  if (name[0] != '/') {
    Dwarf_Attribute attr;
    dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
    if (dir && dir[0] != '/') dir = NULL;
  }
  if (dir) snprintf(joined, sizeof(joined), "%s/%s", dir, name);
  else snprintf(joined, sizeof(joined), "%s", name);
  if (joined[0] != '/') return intern(joined);
  /* Normalize in place: out grows from joined[0], components are read ahead of it. */
  char *out = joined, *in = joined;
  while (*in) {
    while (*in == '/') in++;
    char *end = strchrnul(in, '/');
    size_t len = (size_t)(end - in);
    if (len == 1 && in[0] == '.') {
      /* skip */
    } else if (len == 2 && in[0] == '.' && in[1] == '.') {
      while (out > joined && *--out != '/') {}
    } else if (len) {
      *out++ = '/';
      memmove(out, in, len);
      out += len;
    }
    in = end;
  }
  if (out == joined) *out++ = '/';
  *out = '\0';
  return intern(joined);
}

bool tw_symbolize_system_file(const char *file) {
  return file && strncmp(file, "/usr/include/", 13) == 0;
}

/* The longest inline chain walked at one pc; anything deeper is a loop in broken DWARF. */
#define CHAIN_WALK_MAX 256

/* Fills f[] with the inline chain at DWARF address `a` of `cu`, innermost first, from the frame
 * template f[0] (which has the line table's file:line for the pc). Each inlined frame's caller
 * location is its DW_AT_call_file/line. Returns the count (0: no function scope covers a), and
 * sets *complete when the walk ended at a DW_TAG_subprogram (the function the pc is in). */
static int inline_chain(struct tw_frame *f, int max, Dwarf_Die *cu, Dwarf_Addr a, bool *complete,
                        const char *cxx_symname) {
  *complete = false;
  Dwarf_Die *scopes = NULL;
  int ns = dwarf_getscopes(cu, a, &scopes);
  if (ns <= 0) return 0;
  Dwarf_Die cur;
  int found = enclosing_function(scopes, ns, 0, &cur);
  free(scopes);
  Dwarf_Files *files = NULL;
  size_t nfiles = 0;
  dwarf_getsrcfiles(cu, &files, &nfiles);
  const char *file = f[0].file;
  int line = f[0].line;
  struct tw_frame tmpl = f[0];
  int n = 0;
  while (found && n < max) {
    struct tw_frame *fr = &f[n];
    *fr = tmpl;
    fr->file = file;
    fr->line = line;
    bool linkage = false;
    const char *name = die_name(&cur, &linkage);
    fr->inlined = dwarf_tag(&cur) == DW_TAG_inlined_subroutine;
    /* The names are DWARF's: the symbol at the pc is the function everything was inlined into, so
     * it may name the outermost scope only (the template's name), never an inlined frame. There
     * DWARF's name is the source's (__libc_pause, not its alias pause; foo, not foo.constprop.0),
     * unless it is an unqualified C++ name (a lambda's "operator()") and the symbol is mangled. */
    if (fr->inlined) fr->function = name ? pretty(name) : "??";
    else if (name && (linkage || !cxx_symname)) fr->function = pretty(name);
    n++;
    if (!fr->inlined) {
      *complete = true;
      break;
    }
    /* The next frame out is where this one was inlined: its call site. */
    Dwarf_Attribute attr;
    Dwarf_Word cfile = 0, cline = 0;
    if (dwarf_formudata(dwarf_attr(&cur, DW_AT_call_line, &attr), &cline) == 0) line = (int)cline;
    if (files && dwarf_formudata(dwarf_attr(&cur, DW_AT_call_file, &attr), &cfile) == 0 &&
        cfile < nfiles) {
      const char *fn = dwarf_filesrc(files, cfile, NULL, NULL);
      if (fn) file = source_path(cu, fn);
    }
    Dwarf_Die *parents = NULL;
    int np = dwarf_getscopes_die(&cur, &parents);
    found = np > 0 && enclosing_function(parents, np, 1, &cur);
    free(parents);
  }
  if (found && n == max) { /* walked CHAIN_WALK_MAX frames: end it as it stands */
    f[n - 1].inlined = 0;
    *complete = true;
  }
  /* An unfinished walk: the caller adds the symbol table's function with this call site. */
  if (!*complete && n > 0) {
    f[n].file = file;
    f[n].line = line;
  }
  return n;
}

/* Cuts f[0..n) to at most `max` frames: inner frames in system headers go first (the layers of a
 * library template), innermost first; then the innermost frames. The last (outermost) frame, the
 * function that contains the pc, always stays. Returns the new count. */
static int cut_chain(struct tw_frame *f, int n, int max) {
  while (n > max) {
    int drop = -1;
    for (int i = 0; i < n - 1 && drop < 0; i++)
      if (tw_symbolize_system_file(f[i].file)) drop = i;
    if (drop < 0) drop = 0;
    memmove(&f[drop], &f[drop + 1], sizeof(*f) * (size_t)(n - drop - 1));
    n--;
  }
  return n;
}

/* The module's build-id in hex, interned; NULL if it has none. */
static const char *build_id_of(Dwfl_Module *m) {
  const unsigned char *bits = NULL;
  GElf_Addr vaddr;
  int len = dwfl_module_build_id(m, &bits, &vaddr);
  if (len <= 0 || len > 64) return NULL;
  char hex[129];
  for (int i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", bits[i]);
  return intern(hex);
}

/* Symbolizes pc (a return address: pc - 1 is looked up) into f[0..CHAIN_WALK_MAX]; returns the
 * count. */
static int resolve(uintptr_t pc, struct tw_frame *f) {
  f[0] = (struct tw_frame){.pc = pc, .function = "??", .module = "??"};
  Dwarf_Addr addr = pc ? pc - 1 : 0; /* the call instruction, not the one after it */
  Dwfl *d = session(0);
  Dwfl_Module *m = d ? dwfl_addrmodule(d, addr) : NULL;
  if (!m && d && in_file_mapping(addr)) { /* a library loaded since the last look */
    d = session(1);
    m = d ? dwfl_addrmodule(d, addr) : NULL;
  }
  if (!m) return 1;
  const char *mainfile = NULL;
  Dwarf_Addr start = 0;
  const char *modname = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, &mainfile, NULL);
  f[0].module = intern(mainfile ? mainfile : modname ? modname : "??");
  GElf_Addr elf_bias = 0;
  if (dwfl_module_getelf(m, &elf_bias)) f[0].module_offset = pc - elf_bias;
  else f[0].module_offset = pc - start;
  f[0].build_id = build_id_of(m);
  const char *rawsym = dwfl_module_addrname(m, addr);
  const char *symname = pretty(rawsym);
  bool cxx = rawsym && rawsym[0] == '_' && rawsym[1] == 'Z';
  if (symname) f[0].function = symname;

  Dwarf_Die cu;
  Dwarf_Addr bias = 0;
  if (!find_cu(m, addr, &cu, &bias)) return 1;
  Dwarf_Line *line = dwarf_getsrc_die(&cu, addr - bias);
  if (!line) return 1;
  int lineno = 0;
  const char *file = dwarf_linesrc(line, NULL, NULL);
  if (!file || dwarf_lineno(line, &lineno) != 0 || lineno <= 0) return 1;
  f[0].file = source_path(&cu, file);
  f[0].line = lineno;
  bool complete = false;
  int n = inline_chain(f, CHAIN_WALK_MAX, &cu, addr - bias, &complete, cxx ? symname : NULL);
  if (n == 0) return 1;
  if (!complete) {
    /* The walk stopped inside the chain: the symbol table names the function around it. */
    struct tw_frame *outer = &f[n];
    struct tw_frame loc = *outer;
    *outer = f[0];
    outer->function = symname ? symname : "??";
    outer->file = loc.file;
    outer->line = loc.line;
    outer->inlined = 0;
    n++;
  }
  return n;
}

int tw_symbolize(uintptr_t pc, struct tw_frame *out, int max) {
  struct sym_entry *e = NULL;
  HASH_FIND(hh, cache, &pc, sizeof(pc), e);
  if (!e) {
    static struct tw_frame chain[CHAIN_WALK_MAX + 1]; /* reporter side only: one caller at a time */
    int n = cut_chain(chain, resolve(pc, chain), TW_MAX_INLINE);
    e = malloc(sizeof(*e) + sizeof(struct tw_frame) * (size_t)n);
    if (!e) {
      out[0] = chain[n - 1];
      return 1;
    }
    e->pc = pc;
    e->n = n;
    memcpy(e->f, chain, sizeof(struct tw_frame) * (size_t)n);
    HASH_ADD(hh, cache, pc, sizeof(pc), e);
  }
  int n = e->n < max ? e->n : max; /* a caller with room for fewer gets the innermost */
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
  name = pretty(name); /* static std::mutex accounts_lock is _ZL13accounts_lock */
  if (off) snprintf(out, n, "%s+%llu", name, (unsigned long long)off);
  else snprintf(out, n, "%s", name);
  return true;
}

void tw_symbolize_target(int pid) {
  tw_symbolize_reset();
  target_pid = pid;
}

void tw_symbolize_reset(void) {
  struct sym_entry *e, *tmp;
  HASH_ITER(hh, cache, e, tmp) {
    HASH_DEL(cache, e);
    free(e);
  }
  forget_cu_indexes();
  struct istr *s, *stmp;
  HASH_ITER(hh, strings, s, stmp) {
    HASH_DEL(strings, s);
    free(s);
  }
  if (dwfl) dwfl_end(dwfl);
  dwfl = NULL;
}

void tw_symbolize_prepare(void) {
  /* The module list is read from /proc/self/maps now, while the process may still read it (a
   * process that drops privileges becomes non-dumpable: its /proc files are root's). */
  session(0);
}
