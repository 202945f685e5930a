/* A second translation unit for api_test.c: the header's wrappers keep one lookup cache per
 * translation unit, and both must find the library. */
#include "threadwatch.h"

unsigned long api_tu2_thread_count(void);
int api_tu2_active(void);

unsigned long api_tu2_thread_count(void) { return threadwatch_thread_count(); }
int api_tu2_active(void) { return threadwatch_active(); }
