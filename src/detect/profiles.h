/* The profiles at exit, a detector-table row: with THREADWATCH_PROFILE, the contention table on the
 * text log; with THREADWATCH_PROFILE_DIR, the thread profile (and the block and mutex profiles that
 * THREADWATCH_PROFILE recorded) as pprof and folded files, and the contention table as JSON.
 * Analysis lock held. */
#ifndef TW_DETECT_PROFILES_H
#define TW_DETECT_PROFILES_H

void tw_profiles_at_exit(void);

#endif
