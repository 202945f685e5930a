/* Describing socket and multiplexer waits (build.h): what each fd is, as a person names it. */
#include "report/build.h"

#include <stdio.h>

void tw_describe_fd_wait(char *object, size_t on, char *note, size_t nn,
                         const struct tw_wait_snap *w) {
  snprintf(object, on, "fd %d", w->fd);
  if (nn) note[0] = '\0';
}
