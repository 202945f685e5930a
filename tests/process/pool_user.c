/* Helper program of sh/exit_library_destructors.sh: uses libpool (its pool lives from the
 * library's constructor to its destructor) and returns 0. */
#include <stdio.h>

int pool_ready(void);

int main(void) {
  printf("pool ready: %d\n", pool_ready());
  return 0;
}
