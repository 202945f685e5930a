/* longjmp and siglongjmp: a jump out of a watched blocking call (legal from a signal handler that
 * interrupted read(), say) ends that call's wait, which the hook's own epilogue never gets to do.
 *
 * The jump's target stack pointer is in the jmp_buf, mangled by glibc (x86-64 PTR_MANGLE: xor with
 * the pointer guard at %fs:0x30, then rotate left by 17). A target at or above the stack pointer of
 * a watched call's caller pops that call's frames: the call is over, and so is every call nested
 * in it. A jump that stays below it (a handler jumping within itself), or inside the alternate
 * signal stack the handler runs on, leaves the waits alone.
 *
 * Cost: one TLS load and compare when no watched call is in progress (nearly always); otherwise a
 * few loads and one sigaltstack() call. The real function never returns. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

#include "hooks/hooks.h"

#if defined(__x86_64__)
#define TW_JB_RSP 6 /* glibc x86-64 __jmp_buf: rbx rbp r12 r13 r14 r15 rsp pc */

static uintptr_t target_sp(const struct __jmp_buf_tag *env) {
  uintptr_t v = (uintptr_t)env->__jmpbuf[TW_JB_RSP], guard;
  __asm__("mov %%fs:0x30, %0" : "=r"(guard));
  v = (v >> 17) | (v << (64 - 17));
  return v ^ guard;
}
#else
static uintptr_t target_sp(const struct __jmp_buf_tag *env) {
  (void)env;
  return 0; /* unknown layout: never taken for a jump out of a wait */
}
#endif

static TW_NOINLINE void leave_waits(struct tw_tls *t, const struct __jmp_buf_tag *env) {
  uintptr_t sp = target_sp(env);
  if (!sp) return;
  int saved = errno;
  stack_t ss;
  bool on_alt = sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK) &&
                sp >= (uintptr_t)ss.ss_sp && sp < (uintptr_t)ss.ss_sp + ss.ss_size;
  errno = saved;
  if (on_alt) return; /* stays on the alternate stack the handler runs on */
  uint32_t level = t->in_wait;
  while (level > 0 && level <= TW_WAIT_NEST && sp >= t->wait_sp[level - 1]) level--;
  if (level == t->in_wait) return;
  t->in_wait = level;
  if (level == 0 && t->self) tw_wait_end(t->self);
}

static inline void before_jump(const struct __jmp_buf_tag *env) {
  struct tw_tls *t = tw_tls();
  if (tw_unlikely(t->in_wait != 0) && !t->gone) leave_waits(t, env);
}

TW_HOOK void siglongjmp(sigjmp_buf env, int val) {
  before_jump(env);
  TW_REAL_FN(siglongjmp)(env, val);
  __builtin_unreachable();
}

TW_HOOK void longjmp(jmp_buf env, int val) {
  before_jump(env);
  TW_REAL_FN(longjmp)(env, val);
  __builtin_unreachable();
}

TW_HOOK void _longjmp(jmp_buf env, int val) {
  before_jump(env);
  TW_REAL_FN(_longjmp)(env, val);
  __builtin_unreachable();
}

/* _FORTIFY_SOURCE builds call this one instead of longjmp/siglongjmp. */
TW_HOOK void __longjmp_chk(jmp_buf env, int val) {
  before_jump(env);
  if (TW_REAL_FN(__longjmp_chk)) TW_REAL_FN(__longjmp_chk)(env, val);
  TW_REAL_FN(longjmp)(env, val);
  __builtin_unreachable();
}
