/* Names the program gives its locks (threadwatch_name_lock), looked up wherever a report describes
 * a lock: the locks of a lock-order cycle, the locks a thread held, what a blocked thread waits on. */
#ifndef TW_NAMES_H
#define TW_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A name's size with its NUL, as report.h stores it (struct tw_report_lock.name): longer names are
 * cut to 47 bytes. */
#define TW_NAME_BYTES 48

/* Distinct addresses ever named: bounds the table (64-byte slots, at most half full, grown by
 * doubling with the old tables kept: 4 MiB at most). Names are for the locks a person wants to
 * recognise in a report, not for every lock. Past it, new names are refused with ENOSPC and one
 * line on stderr says so. */
#define TW_NAMES_MAX 16384

/* Names the object at `addr` (a mutex, rwlock or condvar; any address is accepted). The name is
 * copied, cut to TW_NAME_BYTES - 1 bytes, control bytes replaced by '?'. NULL or "" forgets it.
 * Returns 0 or an errno value: ENOSPC past TW_NAMES_MAX, ENOMEM.
 * Analysis lock held (it serialises the writers; readers take no lock). */
int tw_names_set(uintptr_t addr, const char *name);

/* Copies the name of `addr` into buf (n > 0 bytes) and returns true; false with "" when it has
 * none. Any thread, any lock held or none: lock-free (a rename racing it gives the old or the new
 * name, never a mix). */
bool tw_names_get(uintptr_t addr, char *buf, size_t n);

/* `kind 0xADDR` or `kind 0xADDR "name"` into buf (how reports describe a lock they wait on).
 * Lock-free, as tw_names_get. */
void tw_names_describe(char *buf, size_t n, const char *kind, uintptr_t addr);

/* Whether any name was ever set (reports skip the lookups when none was). Lock-free. */
bool tw_names_any(void);

#endif
