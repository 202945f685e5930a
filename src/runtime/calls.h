/* The blocking calls a thread can be seen waiting in, and the classes of objects they wait on:
 * generated from calls.inc and waitclass.inc (one row per call, one row per class). */
#ifndef TW_RUNTIME_CALLS_H
#define TW_RUNTIME_CALLS_H

#include <stdbool.h>

enum tw_call {
  TW_CALL_NONE = 0,
#define TW_CALL(ID, name, cls, timed) TW_CALL_##ID,
#include "runtime/calls.inc"
#undef TW_CALL
  TW_CALL_COUNT
};

enum tw_wait_class {
  TW_WC_NONE = 0,
#define TW_WAIT_CLASS(ID, name) TW_WC_##ID,
#include "runtime/waitclass.inc"
#undef TW_WAIT_CLASS
  TW_WC_COUNT
};

/* The call's name as the program wrote it ("pthread_mutex_lock"); "none", or "?" out of range. */
const char *tw_call_name(enum tw_call c);
enum tw_wait_class tw_call_class(enum tw_call c);
/* Whether the call has a timeout (it ends by itself: never part of a deadlock). */
bool tw_call_timed(enum tw_call c);
/* A socket call that waits for data or a connection to come in (read, accept, recv*); the others
 * (write, connect, send*) wait for room or for the peer. */
static inline bool tw_call_sock_reads(enum tw_call c) {
  return c >= TW_CALL_SOCK_READ && c <= TW_CALL_RECVMSG;
}
/* A sleep (class SLEEP): the thread is "sleeping", not blocked. */
static inline bool tw_call_sleeps(enum tw_call c) {
  return c >= TW_CALL_NANOSLEEP && c <= TW_CALL_POLL_SLEEP;
}
/* The class's word ("mutex", "condvar", ...); "" for TW_WC_NONE. */
const char *tw_wait_class_name(enum tw_wait_class c);

#endif
