/* The control socket: `threadwatch dump PID` asks a running process for its thread dump.
 * The socket lives in a private per-user directory and answers only to the same user (hazard 14).
 * Every function runs on the reporter thread (or the exit path), with the analysis lock held. */
#ifndef TW_CONTROL_H
#define TW_CONTROL_H

#include <stdbool.h>

/* Creates the socket (once per process; again in a forked child). A failure says one line, once. */
void tw_control_start(void);
/* Accepts and moves on the clients of the socket without ever waiting. Each tick. */
void tw_control_poll(void);
/* Whether a client is being served (the reporter then comes back sooner than a tick). */
bool tw_control_busy(void);
/* Removes the socket (process exit). */
void tw_control_stop(void);
/* In a forked child: forget the parent's socket without removing it. */
void tw_control_after_fork_child(void);

#endif
