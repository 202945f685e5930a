/* The thread dump (stub: filled in by the dump work). */
#include "dump.h"

#include "out.h"

void tw_dump_write(struct tw_out *o, bool all, bool json) {
  (void)all;
  (void)json;
  tw_out_str(o, "");
}
