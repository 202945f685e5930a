/* The control socket (stub: filled in by the dump work). */
#include "control.h"

void tw_control_start(void) {}
void tw_control_poll(void) {}
void tw_control_stop(void) {}
void tw_control_after_fork_child(void) {}
