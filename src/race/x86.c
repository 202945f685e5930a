/* x86-64 decoding for the race watcher: length, memory operand and read/write class of one
 * instruction, and which access a data breakpoint trapped. Covers the one-byte and 0F/0F38/0F3A
 * maps with legacy, REX, VEX and EVEX encodings (what compilers and glibc's string functions emit);
 * a byte sequence it does not know is a decoding failure, never a guess. */
#include "race/x86.h"

#include <string.h>

#include "base/tw.h"

/* Map numbers: the one-byte map, then the escape maps (VEX/EVEX use the same numbers). */
enum { MAP_1B = 0, MAP_0F = 1, MAP_0F38 = 2, MAP_0F3A = 3, MAP_EVEX5 = 5, MAP_EVEX6 = 6,
       MAP_XOP = 8 };

/* Mandatory-prefix classes (VEX.pp order). */
enum { PP_NONE = 0, PP_66 = 1, PP_F3 = 2, PP_F2 = 3 };

struct ctx {
  int map;
  uint8_t op;
  int pp;
  int vex;  /* 1: VEX, 2: EVEX, 3: XOP */
  int reg;  /* ModRM.reg, -1 without ModRM */
  int mod;
};

/* The x87 escapes D8-DF: which memory forms store. */
static int x87_access(uint8_t op, int reg) {
  switch (op) {
    case 0xD9: return reg == 2 || reg == 3 || reg == 6 || reg == 7 ? TW_X86_WRITE : TW_X86_READ;
    case 0xDB: return reg == 1 || reg == 2 || reg == 3 || reg == 7 ? TW_X86_WRITE : TW_X86_READ;
    case 0xDD: return reg == 1 || reg == 2 || reg == 3 || reg == 6 || reg == 7 ? TW_X86_WRITE
                                                                              : TW_X86_READ;
    case 0xDF: return reg == 1 || reg == 2 || reg == 3 || reg == 6 || reg == 7 ? TW_X86_WRITE
                                                                              : TW_X86_READ;
    default: return TW_X86_READ; /* D8, DA, DC, DE: arithmetic with a memory source */
  }
}

/* How the instruction uses its ModRM (or moffs) memory operand. */
static int access_1b(const struct ctx *c) {
  uint8_t op = c->op;
  int reg = c->reg;
  if (op < 0x40) {
    int low = op & 7;
    if (low >= 2) return TW_X86_READ;             /* reg, r/m */
    return (op >> 3) == 7 ? TW_X86_READ : TW_X86_WRITE; /* r/m, reg: cmp reads, the rest RMW */
  }
  switch (op) {
    case 0x80: case 0x81: case 0x83: return reg == 7 ? TW_X86_READ : TW_X86_WRITE;
    case 0x86: case 0x87: case 0x88: case 0x89: case 0x8C: case 0x8F: return TW_X86_WRITE;
    case 0x8D: return TW_X86_NONE; /* lea computes the address only */
    case 0xA2: case 0xA3: return TW_X86_WRITE;
    case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3: return TW_X86_WRITE;
    case 0xC6: case 0xC7: return reg == 0 ? TW_X86_WRITE : TW_X86_NONE;
    case 0xD8: case 0xD9: case 0xDA: case 0xDB: case 0xDC: case 0xDD: case 0xDE: case 0xDF:
      return x87_access(op, reg);
    case 0xF6: case 0xF7: return reg == 2 || reg == 3 ? TW_X86_WRITE : TW_X86_READ;
    case 0xFE: case 0xFF: return reg == 0 || reg == 1 ? TW_X86_WRITE : TW_X86_READ;
    default: return TW_X86_READ;
  }
}

static int access_0f(const struct ctx *c) {
  uint8_t op = c->op;
  int reg = c->reg;
  switch (op) {
    case 0x00: return reg == 0 || reg == 1 ? TW_X86_WRITE : TW_X86_READ;
    case 0x01: return reg == 0 || reg == 1 || reg == 4 ? TW_X86_WRITE
                      : reg == 7 ? TW_X86_NONE : TW_X86_READ;
    case 0x0D: case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E:
    case 0x1F:
      return TW_X86_NONE; /* prefetches and hint nops */
    case 0x11: case 0x13: case 0x17: case 0x29: case 0x2B: case 0x7F: case 0xA4: case 0xA5:
    case 0xAB: case 0xAC: case 0xAD: case 0xB0: case 0xB1: case 0xB3: case 0xBB: case 0xC0:
    case 0xC1: case 0xC3: case 0xD6: case 0xE7:
      return TW_X86_WRITE;
    case 0x7E: return c->pp == PP_F3 ? TW_X86_READ : TW_X86_WRITE; /* movq xmm, m64 loads */
    case 0xAE:
      switch (reg) {
        case 0: case 3: case 4: return TW_X86_WRITE; /* fxsave, stmxcsr, xsave */
        case 6: return c->pp == PP_66 ? TW_X86_NONE : TW_X86_WRITE; /* clwb, xsaveopt */
        case 7: return TW_X86_NONE; /* clflush */
        default: return TW_X86_READ;
      }
    case 0xBA: return reg >= 5 ? TW_X86_WRITE : TW_X86_READ;
    case 0xC7: return reg == 1 || reg == 4 || reg == 5 || reg == 7 ? TW_X86_WRITE : TW_X86_READ;
    default:
      if (op >= 0x90 && op <= 0x9F) return TW_X86_WRITE; /* setcc */
      return TW_X86_READ;
  }
}

static int access_vex(const struct ctx *c) {
  uint8_t op = c->op;
  if (c->map == MAP_0F) {
    switch (op) {
      case 0x11: case 0x13: case 0x17: case 0x29: case 0x2B: case 0x7F: case 0xD6: case 0xE7:
        return TW_X86_WRITE;
      case 0x7E: return c->pp == PP_F3 ? TW_X86_READ : TW_X86_WRITE;
      case 0xAE: return c->reg == 3 ? TW_X86_WRITE : TW_X86_READ; /* vstmxcsr */
      default: return TW_X86_READ;
    }
  }
  if (c->map == MAP_0F38) {
    if (op == 0x2E || op == 0x2F || op == 0x8E) return TW_X86_WRITE; /* masked stores */
    if (c->vex == 2) {
      if (op == 0x8A || op == 0x8B || op == 0x63) return TW_X86_WRITE; /* compress */
      if (op >= 0xA0 && op <= 0xA3) return TW_X86_WRITE;              /* scatters */
      if (c->pp == PP_F3 && ((op >= 0x10 && op <= 0x15) || (op >= 0x20 && op <= 0x25) ||
                             (op >= 0x30 && op <= 0x35)))
        return TW_X86_WRITE; /* vpmov* narrowing stores */
    }
    return TW_X86_READ;
  }
  if (c->map == MAP_0F3A) {
    switch (op) {
      case 0x14: case 0x15: case 0x16: case 0x17: case 0x19: case 0x1B: case 0x1D: case 0x39:
      case 0x3B:
        return TW_X86_WRITE; /* extracts to memory */
      default: return TW_X86_READ;
    }
  }
  if (c->map == MAP_EVEX5) {
    if ((op == 0x11 && (c->pp == PP_F3 || c->pp == PP_F2)) || (op == 0x7E && c->pp == PP_66))
      return TW_X86_WRITE; /* vmovsh, vmovw stores */
  }
  return TW_X86_READ;
}

static int string_of(uint8_t op) {
  switch (op) {
    case 0xA4: case 0xA5: return TW_X86_STR_MOVS;
    case 0xA6: case 0xA7: return TW_X86_STR_CMPS;
    case 0xAA: case 0xAB: return TW_X86_STR_STOS;
    case 0xAC: case 0xAD: return TW_X86_STR_LODS;
    case 0xAE: case 0xAF: return TW_X86_STR_SCAS;
    case 0x6C: case 0x6D: return TW_X86_STR_INS;
    case 0x6E: case 0x6F: return TW_X86_STR_OUTS;
    default: return TW_X86_STR_NONE;
  }
}

int tw_x86_decode(const uint8_t *p, size_t n, struct tw_x86_insn *o) {
  memset(o, 0, sizeof(*o));
  o->base = o->index = TW_X86_REG_NONE;
  o->scale = 1;
  if (n > 15) n = 15;
  size_t i = 0;
  int opsz16 = 0, rep = 0, rex = 0;
  /* Legacy prefixes; a REX byte counts only right before the opcode. */
  for (;; i++) {
    if (i >= n) return -1;
    uint8_t b = p[i];
    if (b == 0x66) opsz16 = 1;
    else if (b == 0x67) o->addr32 = 1;
    else if (b == 0xF2 || b == 0xF3) rep = b;
    else if (b == 0x64 || b == 0x65) o->seg = (uint8_t)(b == 0x64 ? 4 : 5);
    else if (b == 0xF0 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26) continue;
    else break;
  }
  if ((p[i] & 0xF0) == 0x40) {
    rex = p[i++];
    if (i >= n) return -1;
  }
  int W = (rex >> 3) & 1, X = (rex >> 1) & 1, B = rex & 1;
  struct ctx c = {.map = MAP_1B, .reg = -1, .mod = 3,
                  .pp = opsz16 ? PP_66 : rep == 0xF3 ? PP_F3 : rep == 0xF2 ? PP_F2 : PP_NONE};
  uint8_t op = p[i++];
  int modrm = 1, imm = 0;
  int z = opsz16 ? 2 : 4;
  if (op == 0x0F) {
    if (i >= n) return -1;
    op = p[i++];
    c.map = MAP_0F;
    if (op == 0x38 || op == 0x3A) {
      if (i >= n) return -1;
      c.map = op == 0x38 ? MAP_0F38 : MAP_0F3A;
      op = p[i++];
    }
  } else if (op == 0xC5 || op == 0xC4 || op == 0x62 ||
             (op == 0x8F && i < n && (p[i] & 0x1F) >= 8)) {
    if (rex) return -1; /* VEX/EVEX/XOP after a REX byte is invalid */
    if (op == 0xC5) {
      if (i + 2 > n) return -1;
      uint8_t b1 = p[i++];
      c.pp = b1 & 3;
      c.map = MAP_0F;
      c.vex = 1;
    } else if (op == 0xC4 || op == 0x8F) {
      if (i + 3 > n) return -1;
      uint8_t b1 = p[i++], b2 = p[i++];
      X = !((b1 >> 6) & 1);
      B = !((b1 >> 5) & 1);
      W = b2 >> 7;
      c.pp = b2 & 3;
      c.map = b1 & 0x1F;
      c.vex = op == 0xC4 ? 1 : 3;
      if (c.vex == 1 && (c.map < MAP_0F || c.map > MAP_0F3A)) return -1;
      if (c.vex == 3) {
        if (c.map < 8 || c.map > 10) return -1;
        c.map = MAP_XOP + (c.map - 8);
      }
    } else {
      if (i + 4 > n) return -1;
      uint8_t p0 = p[i++], p1 = p[i++];
      i++; /* P2: masking, vector length, broadcast: no effect on length */
      X = !((p0 >> 6) & 1);
      B = !((p0 >> 5) & 1);
      W = p1 >> 7;
      c.pp = p1 & 3;
      c.map = p0 & 7;
      c.vex = 2;
      if (!(p1 & 4)) return -1; /* EVEX.P1 bit 2 is always 1 */
      if (c.map == 0 || c.map == 4 || c.map == 7) return -1;
    }
    op = p[i++];
  }
  c.op = op;
  (void)W;

  if (c.vex) {
    if (c.map == MAP_0F && op == 0x77 && c.vex == 1) modrm = 0; /* vzeroupper / vzeroall */
    if (c.map == MAP_0F3A || c.map == MAP_XOP) imm = 1;
    if (c.map == MAP_XOP + 2) imm = 4;
    if (c.map == MAP_0F && ((op >= 0x70 && op <= 0x73) || op == 0xC2 || op == 0xC4 ||
                            op == 0xC5 || op == 0xC6))
      imm = 1;
  } else if (c.map == MAP_0F38) {
    /* every 0F 38 instruction has a ModRM and no immediate */
  } else if (c.map == MAP_0F3A) {
    imm = 1;
  } else if (c.map == MAP_0F) {
    switch (op) {
      case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0B: case 0x0E: case 0x30:
      case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x37: case 0x77: case 0xA0:
      case 0xA1: case 0xA2: case 0xA8: case 0xA9: case 0xAA:
        modrm = 0;
        break;
      case 0x0F: imm = 1; break; /* 3DNow!: the opcode is an immediate byte */
      case 0x70: case 0x71: case 0x72: case 0x73: case 0xA4: case 0xAC: case 0xBA: case 0xC2:
      case 0xC4: case 0xC5: case 0xC6:
        imm = 1;
        break;
      case 0x78: if (c.pp == PP_66 || c.pp == PP_F2) imm = 2; break; /* extrq, insertq */
      default: break;
    }
    if (op >= 0x80 && op <= 0x8F) { /* jcc rel32 */
      modrm = 0;
      imm = 4;
      o->branch = 1;
    }
    if (op >= 0xC8 && op <= 0xCF) modrm = 0; /* bswap */
    if (op == 0x0B) o->uncond = 1;              /* ud2 */
    if (op == 0xA0 || op == 0xA8) o->stack = TW_X86_WRITE; /* push fs/gs */
    if (op == 0xA1 || op == 0xA9) o->stack = TW_X86_READ;
  } else {
    modrm = 0;
    if (op < 0x40) {
      int low = op & 7;
      if (low < 4) modrm = 1;
      else if (low == 4) imm = 1;
      else if (low == 5) imm = z;
      else return -1; /* push/pop es/cs/ss/ds, daa, ...: invalid in 64-bit mode */
    } else if (op < 0x50) {
      return -1; /* a second REX byte */
    } else if (op < 0x60) {
      o->stack = op < 0x58 ? TW_X86_WRITE : TW_X86_READ;
    } else if (op >= 0x70 && op <= 0x7F) {
      imm = 1;
      o->branch = 1;
    } else if (op >= 0x90 && op <= 0x99) {
      /* xchg with rax, nop, pause, cbw/cwd family */
    } else if (op >= 0xB0 && op <= 0xB7) {
      imm = 1;
    } else if (op >= 0xB8 && op <= 0xBF) {
      imm = W ? 8 : z;
    } else if (op >= 0xD8 && op <= 0xDF) {
      modrm = 1;
    } else {
      switch (op) {
        case 0x63: case 0x84: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8A:
        case 0x8B: case 0x8C: case 0x8D: case 0x8E: case 0xD0: case 0xD1: case 0xD2: case 0xD3:
        case 0xFE:
          modrm = 1;
          break;
        case 0x8F: modrm = 1; o->stack = TW_X86_READ; break;
        case 0x68: imm = z; o->stack = TW_X86_WRITE; break;
        case 0x6A: imm = 1; o->stack = TW_X86_WRITE; break;
        case 0x69: modrm = 1; imm = z; break;
        case 0x6B: case 0x80: case 0x83: case 0xC0: case 0xC1: case 0xC6: modrm = 1; imm = 1; break;
        case 0x81: case 0xC7: modrm = 1; imm = z; break;
        case 0x6C: case 0x6D: case 0x6E: case 0x6F: case 0xA4: case 0xA5: case 0xA6: case 0xA7:
        case 0xAA: case 0xAB: case 0xAC: case 0xAD: case 0xAE: case 0xAF:
          break;
        case 0x9B: case 0x9E: case 0x9F: case 0xCC: case 0xF1: case 0xF5: case 0xF8: case 0xF9:
        case 0xFA: case 0xFB: case 0xFC: case 0xFD: case 0xEC: case 0xED: case 0xEE: case 0xEF:
          break;
        case 0xF4: o->uncond = 1; break; /* hlt */
        case 0x9C: o->stack = TW_X86_WRITE; break;
        case 0x9D: o->stack = TW_X86_READ; break;
        case 0xA0: case 0xA1: case 0xA2: case 0xA3: { /* mov with a 64-bit absolute address */
          size_t w = o->addr32 ? 4 : 8;
          if (i + w > n) return -1;
          uint64_t a = 0;
          for (size_t k = 0; k < w; k++) a |= (uint64_t)p[i + k] << (8 * k);
          i += w;
          o->mem = 1;
          o->ea_known = 1;
          o->disp = (int64_t)a;
          o->access = (uint8_t)(op >= 0xA2 ? TW_X86_WRITE : TW_X86_READ);
          break;
        }
        case 0xA8: imm = 1; break;
        case 0xA9: imm = z; break;
        case 0xC2: imm = 2; o->branch = o->uncond = 1; o->stack = TW_X86_READ; break;
        case 0xC3: o->branch = o->uncond = 1; o->stack = TW_X86_READ; break;
        case 0xC8: imm = 3; o->stack = TW_X86_WRITE; break;
        case 0xC9: o->stack = TW_X86_READ; break;
        case 0xCA: imm = 2; o->branch = o->uncond = 1; break;
        case 0xCB: case 0xCF: o->branch = o->uncond = 1; break;
        case 0xCD: imm = 1; break;
        case 0xD7: o->mem = 1; o->access = TW_X86_READ; break; /* xlat: [rbx + al] */
        case 0xE0: case 0xE1: case 0xE2: case 0xE3: imm = 1; o->branch = 1; break;
        case 0xE4: case 0xE5: case 0xE6: case 0xE7: imm = 1; break;
        case 0xE8: imm = 4; o->branch = 1; o->stack = TW_X86_WRITE; break;
        case 0xE9: imm = 4; o->branch = o->uncond = 1; break;
        case 0xEB: imm = 1; o->branch = o->uncond = 1; break;
        case 0xF6: case 0xF7: case 0xFF: modrm = 1; break;
        default: return -1; /* 60, 61, 82, 9A, CE, D4-D6, EA: invalid in 64-bit mode */
      }
    }
  }

  if (modrm) {
    if (i >= n) return -1;
    uint8_t m = p[i++];
    c.mod = m >> 6;
    c.reg = (m >> 3) & 7;
    int rm = m & 7;
    if (c.mod != 3) {
      int disp = c.mod == 1 ? 1 : c.mod == 2 ? 4 : 0;
      o->mem = 1;
      o->ea_known = 1;
      if (rm == 4) {
        if (i >= n) return -1;
        uint8_t sib = p[i++];
        int idx = ((sib >> 3) & 7) | (X << 3);
        if (idx != 4) {
          o->index = (int8_t)idx;
          o->scale = (uint8_t)(1u << (sib >> 6));
        }
        if ((sib & 7) == 5 && c.mod == 0) disp = 4;
        else o->base = (int8_t)((sib & 7) | (B << 3));
      } else if (rm == 5 && c.mod == 0) {
        o->base = TW_X86_REG_RIP;
        disp = 4;
      } else {
        o->base = (int8_t)(rm | (B << 3));
      }
      if (i + (size_t)disp > n) return -1;
      if (disp == 1) o->disp = (int8_t)p[i];
      if (disp == 4) {
        uint32_t d = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
                     (uint32_t)p[i + 3] << 24;
        o->disp = (int32_t)d;
      }
      i += (size_t)disp;
      if (c.vex == 2 && disp == 1) o->ea_known = 0; /* EVEX disp8 is scaled by the operand size */
    }
    if (c.map == MAP_1B) {
      if (op == 0xF6 && c.reg < 2) imm = 1;
      if (op == 0xF7 && c.reg < 2) imm = z;
      if (op == 0xC7 && c.reg == 7 && c.mod == 3) imm = z; /* xbegin rel */
      if (op == 0xFF) {
        if (c.reg >= 2 && c.reg <= 5) o->branch = 1;
        if (c.reg == 4 || c.reg == 5) o->uncond = 1;
        if (c.reg == 2 || c.reg == 3 || c.reg == 6) o->stack = TW_X86_WRITE;
      }
    }
    if (o->mem) {
      int a = c.vex ? access_vex(&c) : c.map == MAP_1B ? access_1b(&c) : c.map == MAP_0F
                                        ? access_0f(&c) : TW_X86_READ;
      if (!c.vex && c.map == MAP_0F38 && op == 0xF1 && c.pp != PP_F2) a = TW_X86_WRITE; /* movbe */
      if (!c.vex && c.map == MAP_0F38 && op == 0xF9) a = TW_X86_WRITE;  /* movdiri */
      if (!c.vex && c.map == MAP_0F3A && op >= 0x14 && op <= 0x17) a = TW_X86_WRITE; /* pextr* */
      o->access = (uint8_t)a;
    }
  }
  if (c.map == MAP_1B && !c.vex) {
    o->string = (uint8_t)string_of(op);
    if (o->string) {
      o->rep = rep != 0;
      o->opsize = (uint8_t)((op & 1) == 0 ? 1 : W ? 8 : opsz16 ? 2 : 4);
    }
  }
  if (i + (size_t)imm > n) return -1;
  i += (size_t)imm;
  o->len = (uint8_t)i;
  return (int)i;
}

int tw_x86_effective_address(const struct tw_x86_insn *insn, uintptr_t end,
                             const struct tw_x86_regs *regs, uintptr_t *ea) {
  if (!insn->mem || !insn->ea_known || insn->seg) return -1;
  uint64_t a = (uint64_t)insn->disp;
  if (insn->base == TW_X86_REG_RIP) a += end;
  else if (insn->base >= 0) {
    if (!regs) return -1;
    a += regs->r[insn->base];
  }
  if (insn->index >= 0) {
    if (!regs) return -1;
    a += regs->r[insn->index] * insn->scale;
  }
  if (insn->addr32) a &= 0xffffffffull;
  *ea = (uintptr_t)a;
  return 0;
}

static int overlaps(uintptr_t a, uintptr_t alen, uintptr_t lo, uintptr_t hi) {
  return a < hi && lo < a + alen;
}

/* A string instruction's access: the [rdi] side writes for movs/stos/ins, reads otherwise. For
 * movs, the side is told by where rdi points now (it has moved by one element past the access, up
 * or down with the direction flag). */
static enum tw_x86_access string_access(const struct tw_x86_insn *s, const struct tw_x86_regs *regs,
                                        uintptr_t lo, uintptr_t hi) {
  switch (s->string) {
    case TW_X86_STR_STOS: case TW_X86_STR_INS: return TW_X86_WRITE;
    case TW_X86_STR_MOVS: {
      if (!regs) return TW_X86_WRITE;
      uintptr_t rdi = regs->r[7], sz = s->opsize;
      return overlaps(rdi - sz, sz, lo, hi) || overlaps(rdi + sz, sz, lo, hi) ? TW_X86_WRITE
                                                                              : TW_X86_READ;
    }
    default: return TW_X86_READ;
  }
}

enum tw_x86_access tw_x86_trap_access(const uint8_t *code, size_t code_len, uintptr_t fn_start,
                                      uintptr_t pc, const struct tw_x86_regs *regs, uintptr_t lo,
                                      uintptr_t hi) {
  if (pc < fn_start || pc - fn_start > code_len) return TW_X86_NONE;
  size_t target = pc - fn_start;
  if (target == 0) return TW_X86_READ; /* landed on an entry: a call or jmp through the word */
  struct tw_x86_insn prev, ins;
  size_t off = 0;
  int have_prev = 0;
  while (off < target) {
    if (tw_x86_decode(code + off, code_len - off, &ins) < 0) return TW_X86_NONE;
    prev = ins;
    have_prev = 1;
    off += ins.len;
  }
  if (off != target || !have_prev) return TW_X86_NONE; /* pc is not an instruction boundary */
  /* A rep string instruction at pc that still iterates trapped mid-way (the instruction pointer
   * stays on it until rcx reaches 0). */
  struct tw_x86_insn at;
  int rep_at = target < code_len && tw_x86_decode(code + target, code_len - target, &at) > 0 &&
               at.string && at.rep && regs && regs->r[1] != 0;
  int prev_mem = prev.mem && prev.access != TW_X86_NONE;
  if (prev_mem) {
    uintptr_t ea;
    if (rep_at && tw_x86_effective_address(&prev, pc, regs, &ea) == 0 &&
        !overlaps(ea, 16, lo, hi))
      return string_access(&at, regs, lo, hi);
    return (enum tw_x86_access)prev.access;
  }
  /* A rep string instruction before pc ended with rcx = 0: with rcx != 0 it is the one at pc. */
  if (prev.string && !(rep_at && prev.rep)) return string_access(&prev, regs, lo, hi);
  if (rep_at) return string_access(&at, regs, lo, hi);
  if (prev.stack && !prev.branch) return (enum tw_x86_access)prev.stack; /* push, pop, leave */
  /* Nothing before pc touches memory: pc is a branch target reached through the watched word
   * (call/jmp *ptr), or a return through it. */
  return TW_X86_READ;
}
