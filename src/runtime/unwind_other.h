/* Unwinding another thread of this process without stopping or signalling it. */
#ifndef TW_UNWIND_OTHER_H
#define TW_UNWIND_OTHER_H

#include <stddef.h>
#include <stdint.h>

/* Copies len bytes of this process's memory at addr without trusting that it is mapped (the
 * object may have been freed since it was seen): 0, -EFAULT when it is not readable, or another
 * negative errno when process_vm_readv itself is not allowed here. */
int tw_peek(const void *addr, void *out, size_t len);

/* The stack (depot id) of thread `tid` if it is stopped in a system call, else 0. *syscall_nr is
 * the call's number (-1 when the thread is running or cannot be read). Reporter side; slow (one
 * process_vm_readv per word read): for reports only. */
uint32_t tw_unwind_other(int tid, long *syscall_nr);

/* The stack of a thread blocked in a watched call, from the call site its wait recorded: the return
 * address into the application, the caller's stack pointer and frame pointer there (registry.h).
 * The frames above the site do not change while the thread stays in the call; the path is checked
 * against the stack after the walk, and cached (callsite.h): a thousand threads blocked at one
 * place cost one walk. 0 when it cannot be read. Reporter side. */
uint32_t tw_unwind_site(uintptr_t pc, uintptr_t sp, uintptr_t bp);

#endif
