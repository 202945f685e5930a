/* Unwinding another thread of this process without stopping or signalling it. */
#ifndef TW_UNWIND_OTHER_H
#define TW_UNWIND_OTHER_H

#include <stdint.h>

/* The stack (depot id) of thread `tid` if it is stopped in a system call, else 0. *syscall_nr is
 * the call's number (-1 when the thread is running or cannot be read). Reporter side; slow (one
 * process_vm_readv per word read): for reports only. */
uint32_t tw_unwind_other(int tid, long *syscall_nr);

#endif
