/* Unit tests for race_x86.c: instruction lengths and read/write classes of the encodings compilers
 * and glibc emit, effective addresses, and which access a data breakpoint trapped (the instruction
 * that ended at the trap's instruction pointer). Byte sequences are from GNU as/objdump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "race/x86.h"

struct vec {
  const char *what;
  uint8_t bytes[15];
  int len;
  int mem;
  int access;
};

static const struct vec vecs[] = {
    {"mov 0x1000(%rip),%rax", {0x48, 0x8b, 0x05, 0x00, 0x10, 0x00, 0x00}, 7, 1, TW_X86_READ},
    {"mov %rax,0x1000(%rip)", {0x48, 0x89, 0x05, 0x00, 0x10, 0x00, 0x00}, 7, 1, TW_X86_WRITE},
    {"addl $1,0x1000(%rip)", {0x83, 0x05, 0x00, 0x10, 0x00, 0x00, 0x01}, 7, 1, TW_X86_WRITE},
    {"lock xadd %rax,0x1000(%rip)", {0xf0, 0x48, 0x0f, 0xc1, 0x05, 0x00, 0x10, 0x00, 0x00}, 9, 1,
     TW_X86_WRITE},
    {"cmpq $0,0x1000(%rip)", {0x48, 0x83, 0x3d, 0x00, 0x10, 0x00, 0x00, 0x00}, 8, 1, TW_X86_READ},
    {"lea 0x1000(%rip),%rax", {0x48, 0x8d, 0x05, 0x00, 0x10, 0x00, 0x00}, 7, 1, TW_X86_NONE},
    {"mov %rdx,%rcx", {0x48, 0x89, 0xd1}, 3, 0, TW_X86_NONE},
    {"vmovdqu %ymm0,(%rdi)", {0xc5, 0xfe, 0x7f, 0x07}, 4, 1, TW_X86_WRITE},
    {"vmovdqu (%rdi),%ymm1", {0xc5, 0xfe, 0x6f, 0x0f}, 4, 1, TW_X86_READ},
    {"vzeroupper", {0xc5, 0xf8, 0x77}, 3, 0, TW_X86_NONE},
    {"call *0x1000(%rip)", {0xff, 0x15, 0x00, 0x10, 0x00, 0x00}, 6, 1, TW_X86_READ},
    {"incl (%rbx)", {0xff, 0x03}, 2, 1, TW_X86_WRITE},
    {"movzbl 0x4(%rbx,%rcx,2),%eax", {0x0f, 0xb6, 0x44, 0x4b, 0x04}, 5, 1, TW_X86_READ},
    {"vmovdqu64 %zmm0,(%rdi)", {0x62, 0xf1, 0xfe, 0x48, 0x7f, 0x07}, 6, 1, TW_X86_WRITE},
    {"vmovups %zmm0,0x40(%rdi)", {0x62, 0xf1, 0x7c, 0x48, 0x11, 0x47, 0x01}, 7, 1, TW_X86_WRITE},
    {"vpmovqd %zmm0,(%rdi)", {0x62, 0xf2, 0x7e, 0x48, 0x35, 0x07}, 6, 1, TW_X86_WRITE},
    {"movabs 0x1122334455667788,%eax",
     {0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, 9, 1, TW_X86_READ},
    {"movabs %rax,0x1122334455667788",
     {0x48, 0xa3, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, 10, 1, TW_X86_WRITE},
    {"mov %fs:0x28,%rax", {0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00}, 9, 1,
     TW_X86_READ},
    {"movq %xmm0,(%rdi)", {0x66, 0x0f, 0xd6, 0x07}, 4, 1, TW_X86_WRITE},
    {"movq (%rdi),%xmm0", {0xf3, 0x0f, 0x7e, 0x07}, 4, 1, TW_X86_READ},
    {"setne (%rax)", {0x0f, 0x95, 0x00}, 3, 1, TW_X86_WRITE},
    {"cmpxchg16b (%rdi)", {0x48, 0x0f, 0xc7, 0x0f}, 4, 1, TW_X86_WRITE},
    {"fstpt (%rdi)", {0xdb, 0x3f}, 2, 1, TW_X86_WRITE},
    {"fldt (%rdi)", {0xdb, 0x2f}, 2, 1, TW_X86_READ},
    {"endbr64", {0xf3, 0x0f, 0x1e, 0xfa}, 4, 0, TW_X86_NONE},
    {"nopw (%rax,%rax,1)", {0x66, 0x0f, 0x1f, 0x04, 0x00}, 5, 1, TW_X86_NONE},
    {"movw $0x1234,(%rax)", {0x66, 0xc7, 0x00, 0x34, 0x12}, 5, 1, TW_X86_WRITE},
    {"testb $1,(%rax)", {0xf6, 0x00, 0x01}, 3, 1, TW_X86_READ},
    {"pextrd $1,%xmm0,(%rdi)", {0x66, 0x0f, 0x3a, 0x16, 0x07, 0x01}, 6, 1, TW_X86_WRITE},
    {"ret", {0xc3}, 1, 0, TW_X86_NONE},
};

static void test_race_x86_lengths_and_classes(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
    struct tw_x86_insn in;
    int n = tw_x86_decode(vecs[i].bytes, (size_t)vecs[i].len, &in);
    if (n != vecs[i].len || in.mem != vecs[i].mem || in.access != vecs[i].access)
      fail_msg("%s: length %d (want %d), mem %d (want %d), access %d (want %d)", vecs[i].what, n,
               vecs[i].len, in.mem, vecs[i].mem, in.access, vecs[i].access);
    /* Cut one byte short, it is incomplete. */
    assert_int_equal(tw_x86_decode(vecs[i].bytes, (size_t)vecs[i].len - 1, &in) < 0 ||
                         vecs[i].len == 1,
                     1);
  }
}

static void test_race_x86_invalid_in_64bit_mode(void **state) {
  (void)state;
  static const uint8_t bad[][2] = {{0x06, 0}, {0x60, 0}, {0xd4, 0x0a}, {0x9a, 0}, {0xea, 0}};
  struct tw_x86_insn in;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_true(tw_x86_decode(bad[i], 2, &in) < 0);
}

static void test_race_x86_effective_address(void **state) {
  (void)state;
  struct tw_x86_insn in;
  struct tw_x86_regs r = {{0}};
  uintptr_t ea;
  assert_int_equal(tw_x86_decode(vecs[0].bytes, 7, &in), 7); /* mov 0x1000(%rip),%rax */
  assert_int_equal(in.base, TW_X86_REG_RIP);
  assert_int_equal(tw_x86_effective_address(&in, 0x400007, &r, &ea), 0);
  assert_int_equal(ea, 0x401007);
  assert_int_equal(tw_x86_decode(vecs[12].bytes, 5, &in), 5); /* movzbl 4(%rbx,%rcx,2) */
  r.r[3] = 0x1000; /* rbx */
  r.r[1] = 0x10;   /* rcx */
  assert_int_equal(tw_x86_effective_address(&in, 0, &r, &ea), 0);
  assert_int_equal(ea, 0x1000 + 0x20 + 4);
  assert_int_equal(tw_x86_decode(vecs[18].bytes, 9, &in), 9); /* %fs: unknown */
  assert_int_equal(tw_x86_effective_address(&in, 0, &r, &ea), -1);
  assert_int_equal(tw_x86_decode(vecs[14].bytes, 7, &in), 7); /* EVEX disp8*N: unknown */
  assert_int_equal(tw_x86_effective_address(&in, 0, &r, &ea), -1);
}

/* A function of the instructions above, at 0x400000, as objdump shows it:
 *   0 mov 0x1000(%rip),%rax    7 add $1,%rax          b mov %rax,0x1000(%rip)
 *  12 addl $1,0x1000(%rip)    19 lock xadd           22 cmpq $0,0x1000(%rip)
 *  2a lea 0x1000(%rip),%rax   31 mov %rdx,%rcx       34 rep stos %al,(%rdi)
 *  36 rep movsq               39 vmovdqu %ymm0,(%rdi) 3d vmovdqu (%rdi),%ymm1
 *  41 vzeroupper              44 call *0x1000(%rip)  4a incl (%rbx)
 *  4c movzbl 4(%rbx,%rcx,2)   51 ret */
static const uint8_t fn[] = {
    0x48, 0x8b, 0x05, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0xc0, 0x01, 0x48, 0x89, 0x05,
    0x00, 0x10, 0x00, 0x00, 0x83, 0x05, 0x00, 0x10, 0x00, 0x00, 0x01, 0xf0, 0x48, 0x0f,
    0xc1, 0x05, 0x00, 0x10, 0x00, 0x00, 0x48, 0x83, 0x3d, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x48, 0x8d, 0x05, 0x00, 0x10, 0x00, 0x00, 0x48, 0x89, 0xd1, 0xf3, 0xaa, 0xf3, 0x48,
    0xa5, 0xc5, 0xfe, 0x7f, 0x07, 0xc5, 0xfe, 0x6f, 0x0f, 0xc5, 0xf8, 0x77, 0xff, 0x15,
    0x00, 0x10, 0x00, 0x00, 0xff, 0x03, 0x0f, 0xb6, 0x44, 0x4b, 0x04, 0xc3};
#define BASE 0x400000u

static enum tw_x86_access trap(uintptr_t off, const struct tw_x86_regs *r, uintptr_t lo) {
  return tw_x86_trap_access(fn, sizeof(fn), BASE, BASE + off, r, lo, lo + 8);
}

static void test_race_x86_trap_after_instruction(void **state) {
  (void)state;
  struct tw_x86_regs r = {{0}};
  assert_int_equal(trap(0x07, &r, 0x401007), TW_X86_READ);  /* after the load */
  assert_int_equal(trap(0x12, &r, 0x401012), TW_X86_WRITE); /* after the store */
  assert_int_equal(trap(0x19, &r, 0x401019), TW_X86_WRITE); /* addl: read-modify-write */
  assert_int_equal(trap(0x22, &r, 0x401022), TW_X86_WRITE); /* lock xadd */
  assert_int_equal(trap(0x2a, &r, 0x40102a), TW_X86_READ);  /* cmp */
  assert_int_equal(trap(0x3d, &r, 0), TW_X86_WRITE);        /* vmovdqu store */
  assert_int_equal(trap(0x41, &r, 0), TW_X86_READ);         /* vmovdqu load */
  assert_int_equal(trap(0x4c, &r, 0), TW_X86_WRITE);        /* incl */
  assert_int_equal(trap(0x51, &r, 0), TW_X86_READ);         /* movzbl */
}

static void test_race_x86_trap_rep_string_mid_iteration(void **state) {
  (void)state;
  struct tw_x86_regs r = {{0}};
  r.r[1] = 5; /* rcx: iterations left, the instruction pointer stays on the rep instruction */
  assert_int_equal(trap(0x34, &r, 0x9000), TW_X86_WRITE); /* rep stos at 0x34 */
  /* rep movsq at 0x36, one element done: rdi and rsi moved on by 8 */
  r.r[7] = 0x5008; /* rdi */
  r.r[6] = 0x7008; /* rsi */
  assert_int_equal(trap(0x36, &r, 0x5000), TW_X86_WRITE); /* the [rdi] side */
  assert_int_equal(trap(0x36, &r, 0x7000), TW_X86_READ);  /* the [rsi] side */
}

static void test_race_x86_trap_branch_through_word(void **state) {
  (void)state;
  struct tw_x86_regs r = {{0}};
  /* call *ptr: the trap comes at the callee's first instruction */
  assert_int_equal(tw_x86_trap_access(fn, sizeof(fn), BASE, BASE, &r, 0x401000, 0x401008),
                   TW_X86_READ);
}

static void test_race_x86_trap_not_a_boundary(void **state) {
  (void)state;
  struct tw_x86_regs r = {{0}};
  assert_int_equal(trap(0x03, &r, 0), TW_X86_NONE);
  assert_int_equal(tw_x86_trap_access(fn, sizeof(fn), BASE, BASE + sizeof(fn) + 1, &r, 0, 8),
                   TW_X86_NONE);
  assert_int_equal(tw_x86_trap_access(fn, sizeof(fn), BASE, BASE - 1, &r, 0, 8), TW_X86_NONE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_race_x86_lengths_and_classes),
      cmocka_unit_test(test_race_x86_invalid_in_64bit_mode),
      cmocka_unit_test(test_race_x86_effective_address),
      cmocka_unit_test(test_race_x86_trap_after_instruction),
      cmocka_unit_test(test_race_x86_trap_rep_string_mid_iteration),
      cmocka_unit_test(test_race_x86_trap_branch_through_word),
      cmocka_unit_test(test_race_x86_trap_not_a_boundary),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
