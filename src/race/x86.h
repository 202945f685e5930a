/* x86-64 instruction decoding for the race watcher: instruction lengths, memory operands, and
 * whether an instruction reads or writes memory. Pure functions: no state, async-signal-safe. */
#ifndef TW_RACE_X86_H
#define TW_RACE_X86_H

#include <stddef.h>
#include <stdint.h>

/* How an instruction uses its memory operand. */
enum tw_x86_access { TW_X86_NONE = 0, TW_X86_READ = 1, TW_X86_WRITE = 2 };

/* Implicit memory of string instructions: which of [rsi] / [rdi] they read or write. */
enum tw_x86_string {
  TW_X86_STR_NONE = 0,
  TW_X86_STR_MOVS, /* reads [rsi], writes [rdi] */
  TW_X86_STR_CMPS, /* reads both */
  TW_X86_STR_STOS, /* writes [rdi] */
  TW_X86_STR_LODS, /* reads [rsi] */
  TW_X86_STR_SCAS, /* reads [rdi] */
  TW_X86_STR_INS,  /* writes [rdi] */
  TW_X86_STR_OUTS, /* reads [rsi] */
};

enum { TW_X86_REG_NONE = -1, TW_X86_REG_RIP = 16 };

struct tw_x86_insn {
  uint8_t len;      /* bytes, 1..15 */
  uint8_t mem;      /* 1: an explicit memory operand (ModRM or moffs, or xlat's implicit one) */
  uint8_t access;   /* enum tw_x86_access of that operand (NONE for lea, nop, prefetch, ...) */
  uint8_t string;   /* enum tw_x86_string */
  uint8_t rep;      /* an F2/F3 prefix on a string instruction */
  uint8_t opsize;   /* string element size in bytes */
  uint8_t stack;    /* implicit stack use: TW_X86_WRITE (push, call), TW_X86_READ (pop, ret) */
  uint8_t branch;   /* 1: transfers control (jmp, jcc, call, ret, loop, ...) */
  uint8_t uncond;   /* 1: never falls through (jmp, ret, ud2, hlt) */
  uint8_t seg;      /* 0, or 4/5 for an fs/gs segment override (address then unknown) */
  uint8_t addr32;   /* a 67 prefix: the address is computed in 32 bits */
  uint8_t ea_known; /* 0 when the displacement is scaled (EVEX disp8*N) or absent */
  int8_t base;      /* register number 0-15 (rax..r15), TW_X86_REG_RIP, or TW_X86_REG_NONE */
  int8_t index;     /* register number or TW_X86_REG_NONE */
  uint8_t scale;    /* 1, 2, 4, 8 */
  int64_t disp;     /* displacement, or the absolute address of a moffs operand */
};

/* Decodes one instruction from p[0..n). Returns its length (1..15), or -1 when the bytes are not
 * a complete instruction this decoder knows. *out is filled on success. */
int tw_x86_decode(const uint8_t *p, size_t n, struct tw_x86_insn *out);

/* Register values after the trap, by x86 register number (rax=0, rcx, rdx, rbx, rsp, rbp, rsi, rdi,
 * r8..r15). */
struct tw_x86_regs {
  uint64_t r[16];
};

/* The effective address of insn's memory operand when the instruction ended at `end` with the
 * registers `regs`. Returns 0 and sets *ea, or -1 when it cannot be known. Registers the
 * instruction itself changed give a wrong address: callers use it as a hint only. */
int tw_x86_effective_address(const struct tw_x86_insn *insn, uintptr_t end,
                             const struct tw_x86_regs *regs, uintptr_t *ea);

/* Read or write: the access that a data breakpoint on [lo, hi) trapped, the trap reported after
 * the instruction with the instruction pointer at `pc`. code[0..code_len) are the bytes of the
 * function that contains pc, from its first instruction at address fn_start (code_len should
 * reach at least 15 bytes past pc). The instruction that ended at pc is found by decoding
 * forward from fn_start; a rep string instruction at pc still iterating (rcx != 0) is the other
 * candidate; an instruction pointer at a function's entry, or after an instruction without
 * memory operand, means the access was an indirect branch through the watched word (a read).
 * Returns TW_X86_READ, TW_X86_WRITE, or TW_X86_NONE when it cannot tell. */
enum tw_x86_access tw_x86_trap_access(const uint8_t *code, size_t code_len, uintptr_t fn_start,
                                      uintptr_t pc, const struct tw_x86_regs *regs, uintptr_t lo,
                                      uintptr_t hi);

#endif
