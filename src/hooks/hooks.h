/* Hook prologue/epilogue helpers shared by every file of hooks/.
 *
 * How to add a hook (src/README.md has the whole recipe):
 *  1. Add a TW_REAL(ret, name, (params), version, required) line to base/real.inc. Use the symbol
 *     version for calls glibc exports twice (the pthread_cond_* family: "GLIBC_2.3.2", hazard 2).
 *     The export map is generated from that table. A blocking call also gets a TW_CALL row in
 *     runtime/calls.inc (its name, wait class, timed or not).
 *  2. In the hooks/ file of its family (or a new one: the build picks it up), write it mechanically:
 *
 *       TW_HOOK int pthread_foo(pthread_foo_t *f) {
 *         struct tw_tls *t = tw_tls();
 *         if (TW_BYPASS(t)) return TW_REAL_FN(pthread_foo)(f);   // tool code or exiting thread
 *         int r = TW_REAL_FN(pthread_foo)(f);                     // the real call, result kept
 *         if (r == 0) tw__on_foo(t, f);                           // the event, on success only
 *         return r;                                               // errno untouched (hazard 3)
 *       }
 *
 *     Anything that may change errno (allocation, unwinding, writing) runs between TW_ERRNO_SAVE and
 *     TW_ERRNO_RESTORE, and inside tw_guard_enter/leave so calls it makes pass straight through.
 *  3. Add the call to tests/fidelity/fidelity.c (same result and errno with and without the preload).
 */
#ifndef TW_HOOKS_H
#define TW_HOOKS_H

#include <errno.h>

#include "base/real.h"
#include "base/tw.h"
#include "control/init.h"
#include "detect/lockorder.h"
#include "detect/misuse.h"
#include "runtime/fdtrack.h"
#include "runtime/feeders.h"
#include "runtime/registry.h"
#include "runtime/stackdepot.h"
#include "runtime/tls.h"

#define TW_HOOK TW_EXPORT

/* Hooks pass straight through while tool code runs on this thread, or after the thread has left. */
#define TW_BYPASS(t) tw_unlikely((t)->guard != 0 || (t)->gone)

/* The calling thread's record, made on first use (adoption, hooks/thread.c). NULL if the thread has
 * left. */
struct tw_thread *tw__self_slow(struct tw_tls *t);
static inline struct tw_thread *tw_self(struct tw_tls *t) {
  return tw_likely(t->self != NULL) ? t->self : tw__self_slow(t);
}

/* Binds a record to the calling thread so our TSD destructor sees it leave (hooks/thread.c). */
void tw__thread_attach(struct tw_thread *self);

/* A lock at `lock` is being initialised or destroyed: retire its graph node, if it has one. */
static inline void tw_hook_lockorder_reset(uintptr_t lock) {
  if (tw_lockorder_maybe_known(lock)) {
    struct tw_tls *t = tw_tls();
    if (TW_BYPASS(t)) return; /* tool code (libunwind, libdw) making its own locks */
    tw_self(t);
    tw__lockorder_reset_slow(lock);
  }
}

/* THREADWATCH_LOCK_CLASSES: `lock` was initialised at return address pc. */
static inline void tw_hook_lock_init_site(uintptr_t lock, uintptr_t pc) {
  struct tw_tls *t = tw_tls();
  if (TW_BYPASS(t)) return; /* tool code (libunwind, libdw) making its own locks */
  tw_self(t);
  tw__lockorder_init_site(lock, pc);
}

#define TW_ERRNO_SAVE() int tw_saved_errno_ = errno
#define TW_ERRNO_RESTORE() (errno = tw_saved_errno_)

/* The application's call site: the return address of the hook, and the caller's stack pointer at
 * the call (the hook's frame pointer + saved rbp + return address; tw_core keeps frame pointers).
 * Use them in the exported hook itself, not in a helper it calls. */
#define TW_CALLER_PC() ((uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0)))
#define TW_CALLER_SP() ((uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *))

/* Blocking-wait bracket. The wait state is set only for the outermost watched call of a thread (a
 * signal handler's I/O inside a condvar wait leaves the condvar wait in place). The wait publishes
 * the locks the thread holds (but not a condvar wait's mutex, which it does not hold meanwhile). */
void tw__wait_publish(struct tw_tls *t, struct tw_thread *self, enum tw_call call, uintptr_t obj,
                      uintptr_t obj2, int fd, uint32_t aux_stack, uintptr_t site_pc,
                      uintptr_t site_sp, uintptr_t site_bp);
/* Cost: the call site from threadwatch's frame pointers (a few loads), a dozen stores of the wait
 * state, one clock read; no unwinding, no allocation, no system call. Also records where each
 * nesting level's call was made (t->wait_sp), so a longjmp out of it ends it (hooks/jmp.c). */
static inline struct tw_thread *tw_wait_enter_aux(struct tw_tls *t, enum tw_call call,
                                                  uintptr_t obj, uintptr_t obj2, int fd,
                                                  uint32_t aux_stack) {
  struct tw_thread *self = tw_self(t);
  uintptr_t pc = 0, sp = 0, bp = 0;
  if (!tw_stack_site(&pc, &sp, &bp)) sp = (uintptr_t)__builtin_frame_address(0);
  if (t->in_wait < TW_WAIT_NEST) t->wait_sp[t->in_wait] = sp;
  if (t->in_wait++ != 0 || !self) return NULL;
  tw_guard_enter(t);
  tw__wait_publish(t, self, call, obj, obj2, fd, aux_stack, pc, sp, bp);
  tw_guard_leave(t);
  return self;
}
static inline struct tw_thread *tw_wait_enter(struct tw_tls *t, enum tw_call call, uintptr_t obj,
                                              uintptr_t obj2, int fd) {
  return tw_wait_enter_aux(t, call, obj, obj2, fd, 0);
}

/* A misuse seen by a hook, before the real call (misuse.h): sends it and waits until it is reported.
 * `stack` is where (0: the stack at the hooked call with return address pc and caller stack pointer
 * sp); prev_stack and prev_thread name the earlier event that makes it wrong (0: none). Errno is
 * kept. A call site already reported is not sent again. */
void tw__misuse(struct tw_tls *t, enum tw_misuse what, enum tw_mu_obj kind, uintptr_t obj,
                uint64_t other, uint32_t prev_stack, uint64_t prev_thread, uintptr_t pc,
                uintptr_t sp, uint32_t stack);

/* destroy-locked: a mutex or rwlock `obj` is being destroyed while held, by this thread (then where
 * it took it is the earlier event) or by the thread whose kernel id is holder_tid (0: unknown, as
 * glibc's owner field says). Errno is kept. */
void tw__misuse_destroy_locked(struct tw_tls *t, enum tw_mu_obj kind, uintptr_t obj,
                               int holder_tid, uintptr_t pc, uintptr_t sp);

/* After a blocking pthread call (slow paths only): a result that means a bug in the program, not
 * one a correct program expects (EBUSY from a try, ETIMEDOUT from a timed call, EOWNERDEAD from a
 * robust mutex, EAGAIN from a counter at its limit, EINTR), is a misuse: EDEADLK from a lock the
 * thread already holds is self-relock (with where it took it), anything else call-failed. `ts`: the
 * call's timeout, or NULL. Errno is kept. */
void tw__call_result(struct tw_tls *t, enum tw_call call, enum tw_mu_obj kind, uintptr_t obj, int r,
                     const struct timespec *ts, uintptr_t pc, uintptr_t sp);
static inline bool tw_result_expected(int r) {
  return r == 0 || r == EBUSY || r == ETIMEDOUT || r == EOWNERDEAD || r == EAGAIN || r == EINTR ||
         r == ENOTRECOVERABLE;
}

/* exit-holding-locks: the thread is ending with t->held not empty (our TSD destructor). */
void tw__misuse_exit_holding(struct tw_tls *t);

/* THREADWATCH_PROFILE (hooks/profile.c), slow paths only: a wait just published is drawn for the
 * profiles (t->prof_weight; a lock wait is registered on its lock); a recorded wait ends (the block
 * profile); a wait left without its end is forgotten; an unlock that found waiters charges them to
 * the unlocking stack (the mutex profile). Errno is kept. */
void tw__profile_wait_begin(struct tw_tls *t, struct tw_thread *self, enum tw_call call);
void tw__profile_wait_done(struct tw_tls *t, struct tw_thread *self);
void tw__profile_wait_abandon(struct tw_tls *t);
void tw__profile_unlocked(struct tw_tls *t, enum tw_wait_class c, uintptr_t lock, uint64_t delay,
                          uintptr_t pc, uintptr_t sp);

/* Feeding facts (runtime/feeders.h): this thread posted semaphore / woke futex word `obj`. Told to
 * the reporter once per thread, object and reset generation; the memo check is the whole cost of
 * a repeated post. Async-signal-safe (sem_post may run in a handler) but for a thread's very first
 * hook, which adopts it. */
void tw__feed_slow(struct tw_tls *t, uintptr_t obj, unsigned kind);
static inline bool tw_feed_known(const struct tw_tls *t, uintptr_t obj) {
  return t->fed_gen == tw_load_relaxed(&tw__feed_gen) &&
         (t->fed[0] == obj || t->fed[1] == obj || t->fed[2] == obj || t->fed[3] == obj);
}
/* A semaphore (re)initialised or destroyed: its feeders are forgotten (sent in lock-event order). */
void tw__feed_reset(struct tw_tls *t, uintptr_t obj);

/* Every tw_wait_enter is matched by exactly one tw_wait_leave (or the cancellation cleanup). */
static inline void tw_wait_leave(struct tw_tls *t, struct tw_thread *self) {
  if (t->in_wait) t->in_wait--;
  if (self) {
    if (tw_unlikely(t->prof_weight)) tw__profile_wait_done(t, self);
    tw_wait_end(self);
  }
}

/* Cancellation cleanup for waits that are cancellation points (hazard 4). */
void tw__wait_cancel_cleanup(void *self);

/* A blocking call `expr` bracketed by a wait state (call, obj, obj2, fd), a cancellation point
 * (hazard 4): the hooks of sleeps, multiplexers and other calls that wait on no fd's kind alone. */
#define TW_WAIT_CALL(call, obj, obj2, fd, expr)                                     \
  __extension__({                                                                   \
    struct tw_tls *t_ = tw_tls();                                                   \
    __typeof__(expr) r_;                                                            \
    if (TW_BYPASS(t_)) {                                                            \
      r_ = (expr);                                                                  \
    } else {                                                                        \
      TW_ERRNO_SAVE();                                                              \
      struct tw_thread *self_ =                                                     \
          tw_wait_enter(t_, call, obj, obj2, fd);                                   \
      TW_ERRNO_RESTORE();                                                           \
      pthread_cleanup_push(tw__wait_cancel_cleanup, self_);                         \
      r_ = (expr);                                                                  \
      pthread_cleanup_pop(0);                                                       \
      int e_ = errno;                                                               \
      tw_wait_leave(t_, self_);                                                     \
      errno = e_;                                                                   \
    }                                                                               \
    r_;                                                                             \
  })

/* I/O on a tracked fd (hooks/fd.c, hooks/socket.c): the reader/writer fact of a pipe, eventfd or
 * socketpair (once per thread and fd in a row), and the wait state unless the fd is non-blocking.
 * `dir` is TW_EV_IO_READ or TW_EV_IO_WRITE. Async-signal-safe but for a thread's first hook. */
struct tw_thread *tw__io_enter(struct tw_tls *t, int fd, uint8_t kind, unsigned dir,
                               enum tw_call call);
static inline void tw_io_leave(struct tw_tls *t, uint8_t kind, struct tw_thread *self) {
  if (!(kind & TW_FD_NONBLOCK)) tw_wait_leave(t, self);
}

/* The I/O of a tracked fd, bracketed by the wait state (cancellation point: hazard 4). */
#define TW_TRACKED_IO(fd, kind, dir, call, expr)                         \
  __extension__({                                                        \
    struct tw_tls *t_ = tw_tls();                                        \
    __typeof__(expr) r_;                                                 \
    if (TW_BYPASS(t_)) {                                                 \
      r_ = (expr);                                                       \
    } else {                                                             \
      struct tw_thread *self_ =                                          \
          tw__io_enter(t_, fd, kind, dir, call);                           \
      pthread_cleanup_push(tw__wait_cancel_cleanup, self_);              \
      r_ = (expr);                                                       \
      pthread_cleanup_pop(0);                                            \
      int e_ = errno;                                                    \
      tw_io_leave(t_, kind, self_);                                      \
      errno = e_;                                                        \
    }                                                                    \
    r_;                                                                  \
  })

/* The lock-order check of an acquisition that can block: when this held set has taken this lock
 * before (the thread-local probe of detect/lockorder.h), nothing more; else the thread is adopted
 * and the new edges are sent (slow path). Returns true when every edge has been sent. */
static inline bool tw_hook_lockorder(struct tw_tls *t, uintptr_t lock, uint32_t mode, uintptr_t pc,
                                     uintptr_t sp) {
  if (tw_likely(t->nheld == 0)) return true;
  if (tw_likely(tw_lockorder_known(t, lock, mode)) && tw_lock_tag_ok(lock, mode)) return true;
  tw_self(t);
  return tw__lockorder_slow(t, lock, mode, pc, sp);
}

#endif
