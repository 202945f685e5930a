/* Data symbols by name in the loaded modules: libelf over each file's .symtab and .dynsym. */
#include "base/elfsym.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/demangle.h"
#include "base/tw.h"

/* What one file says about `name`: the best definition seen so far. */
struct found {
  bool global;      /* a global or weak definition was seen (it wins) */
  unsigned nlocal;  /* distinct local definitions (by address) */
  uintptr_t local_addr;
  GElf_Sym sym;     /* the chosen definition */
};

static bool is_definition(const GElf_Sym *s) {
  return s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_ABS;
}

/* `<length><identifier>` of the last component of a C++ name ("8accounts" for bank::accounts):
 * a mangled symbol of that name contains it, so only those are demangled. Empty if it cannot be a
 * C++ name. */
static void mangled_tail(const char *name, char *out, size_t n) {
  const char *last = name;
  for (const char *p = strstr(name, "::"); p; p = strstr(p + 2, "::")) last = p + 2;
  out[0] = '\0';
  if (*last) snprintf(out, n, "%zu%s", strlen(last), last);
}

/* Whether symbol `nm` is `name`: the same bytes, or a mangled C++ symbol (_Z...) whose demangled
 * form is `name` (static std::mutex accounts_lock is _ZL13accounts_lock, bank::ledger_lock is
 * _ZN4bank11ledger_lockE). */
static bool same_name(const char *nm, const char *name, const char *tail) {
  if (strcmp(nm, name) == 0) return true;
  if (nm[0] != '_' || nm[1] != 'Z' || !tail[0] || !strstr(nm, tail)) return false;
  char *d = tw_demangle(nm);
  bool same = d && strcmp(d, name) == 0;
  free(d);
  return same;
}

static void scan_table(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *name,
                       struct found *f) {
  char tail[256];
  mangled_tail(name, tail, sizeof(tail));
  Elf_Data *data = elf_getdata(scn, NULL);
  if (!data || sh->sh_entsize == 0) return;
  size_t n = sh->sh_size / sh->sh_entsize;
  for (size_t i = 1; i < n; i++) {
    GElf_Sym s;
    if (!gelf_getsym(data, (int)i, &s) || !is_definition(&s)) continue;
    const char *nm = elf_strptr(elf, sh->sh_link, s.st_name);
    if (!nm || !same_name(nm, name, tail)) continue;
    int bind = GELF_ST_BIND(s.st_info);
    if (bind == STB_GLOBAL || bind == STB_WEAK || bind == STB_GNU_UNIQUE) {
      if (!f->global) f->sym = s;
      f->global = true;
    } else if (bind == STB_LOCAL) {
      if (f->nlocal == 0 || s.st_value != f->local_addr) {
        f->nlocal++;
        f->local_addr = s.st_value;
        if (!f->global) f->sym = s;
      }
    }
  }
}

int tw_elfsym_lookup_file(const char *path, uintptr_t bias, const char *name,
                          struct tw_elfsym *out) {
  memset(out, 0, sizeof(*out));
  snprintf(out->module, sizeof(out->module), "%s", path);
  if (elf_version(EV_CURRENT) == EV_NONE) return -EIO;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -EIO;
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (!elf || elf_kind(elf) != ELF_K_ELF) {
    if (elf) elf_end(elf);
    close(fd);
    return -EIO;
  }
  struct found f = {0};
  for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) scan_table(elf, scn, &sh, name, &f);
  }
  elf_end(elf);
  close(fd);
  if (!f.global && f.nlocal == 0) return -ENOENT;
  if (!f.global && f.nlocal > 1) return -ENOTUNIQ;
  int type = GELF_ST_TYPE(f.sym.st_info);
  out->addr = bias + (uintptr_t)f.sym.st_value;
  out->size = (size_t)f.sym.st_size;
  out->type = type;
  out->local = !f.global;
  if (type == STT_FUNC || type == STT_GNU_IFUNC) return -EISDIR;
  if (type == STT_TLS) return -EBADSLT;
  if (out->size == 0) return -ENODATA;
  return 0;
}

struct search {
  const char *name;
  const char *skip; /* our own library: its internals are not the application's data */
  int rc;
  struct tw_elfsym *out;
  bool first;
};

static int per_module(struct dl_phdr_info *info, size_t size, void *p) {
  (void)size;
  struct search *s = p;
  bool exe = s->first;
  s->first = false;
  const char *path = info->dlpi_name;
  char exe_path[256];
  if (exe || !path || !path[0]) {
    if (!exe) return 0; /* the vDSO and other nameless modules */
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
    if (n <= 0) return 0;
    exe_path[n] = '\0';
    path = exe_path;
  }
  if (!exe && s->skip && strcmp(path, s->skip) == 0) return 0;
  struct tw_elfsym tmp;
  int rc = tw_elfsym_lookup_file(path, (uintptr_t)info->dlpi_addr, s->name, &tmp);
  if (rc == -ENOENT || rc == -EIO) return 0;
  *s->out = tmp;
  s->rc = rc;
  return 1; /* the first module that defines it wins */
}

static const char in_this_module = 0; /* dladdr finds the module that contains this code */

int tw_elfsym_lookup(const char *name, struct tw_elfsym *out) {
  memset(out, 0, sizeof(*out));
  Dl_info self;
  struct search s = {.name = name, .rc = -ENOENT, .out = out, .first = true};
  if (dladdr(&in_this_module, &self) && self.dli_fname) s.skip = self.dli_fname;
  dl_iterate_phdr(per_module, &s);
  return s.rc;
}

bool tw_elfsym_exe_has_mangled(void) {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0 || elf_version(EV_CURRENT) == EV_NONE) return false;
  path[n] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  bool found = false;
  for (Elf_Scn *scn = elf ? elf_nextscn(elf, NULL) : NULL; scn && !found;
       scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)) continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t count = data && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
    for (size_t i = 1; i < count && !found; i++) {
      GElf_Sym sym;
      const char *nm = gelf_getsym(data, (int)i, &sym) ? elf_strptr(elf, sh.sh_link, sym.st_name) : NULL;
      found = nm && nm[0] == '_' && nm[1] == 'Z';
    }
  }
  if (elf) elf_end(elf);
  close(fd);
  return found;
}
