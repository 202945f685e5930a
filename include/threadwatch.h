/* threadwatch public API. Usable with or without the preloaded library: declared weak, so every
 * call is a cheap no-op (check the pointer) when libthreadwatch.so is not loaded. */
#ifndef THREADWATCH_H
#define THREADWATCH_H

#ifdef __cplusplus
extern "C" {
#endif

#define THREADWATCH_VERSION_MAJOR 0
#define THREADWATCH_VERSION_MINOR 1

/* The version of the loaded library as "MAJOR.MINOR.PATCH". */
const char *threadwatch_version(void) __attribute__((weak));

/* Live application threads right now (the main thread included), Go's runtime.NumGoroutine. */
unsigned long threadwatch_thread_count(void) __attribute__((weak));

/* True (non-zero) when libthreadwatch.so is loaded into this process. */
static inline int threadwatch_active(void) { return threadwatch_version != 0; }

#ifdef __cplusplus
}
#endif

#endif
