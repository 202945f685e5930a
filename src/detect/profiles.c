/* The exit-time profile outputs: the contention table on the text log, files in the profile
 * directory. */
#include "detect/profiles.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/msg.h"
#include "base/options.h"
#include "base/out.h"
#include "report/emit.h"
#include "report/profiles.h"
#include "runtime/contention.h"

static struct tw_out file_out; /* 64 KiB buffer: static (analysis lock held) */

static void table_text(struct tw_out *o, void *ctx) {
  (void)ctx;
  tw_contention_table(o, false);
}

/* What one file holds. */
enum what { PPROF, FOLDED, TABLE_JSON };

/* Writes dir/threadwatch.PID.NAME.EXT: made fresh (an old file of a reused pid is emptied), with
 * the same rules as the report files (a regular file of ours, never through a symlink). Says why
 * once per file when it cannot. */
static void write_file(const char *dir, long pid, const char *name, const char *ext, enum what what,
                       enum tw_profile_kind k) {
  char path[TW_OPT_STR_MAX + 96], why[256];
  snprintf(path, sizeof(path), "%s/threadwatch.%ld.%s.%s", dir, pid, name, ext);
  bool created = false;
  int fd = tw__open_report_file(path, why, sizeof(why), &created);
  if (fd < 0) {
    char quoted[sizeof(path) + 16];
    tw_msg_quote(quoted, sizeof(quoted), path);
    tw_msg("threadwatch: cannot write the profile %s: %s", quoted, why[0] ? why : strerror(-fd));
    return;
  }
  if (!created && ftruncate(fd, 0) != 0) {
    tw__close(fd);
    return;
  }
  tw_out_init(&file_out, fd);
  int rc = 0;
  if (what == TABLE_JSON) tw_contention_table(&file_out, true);
  else rc = tw_profiles_write(&file_out, k, what == FOLDED);
  int wrc = tw_out_flush(&file_out);
  if (rc || wrc) tw_msg("threadwatch: writing the profile %s failed: %s", path, strerror(-(rc ? rc : wrc)));
  tw__close(fd);
}

static void write_dir(void) {
  long pid = (long)getpid();
  char dir[TW_OPT_STR_MAX + 32];
  if (tw__expand_pid(tw__opt.profile_dir, pid, dir, sizeof(dir)) != 0) return;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    char quoted[sizeof(dir) + 16];
    tw_msg_quote(quoted, sizeof(quoted), dir);
    tw_msg("threadwatch: cannot make THREADWATCH_PROFILE_DIR %s: %s", quoted, strerror(errno));
    return;
  }
  int on = tw_profile_on();
  for (int k = 0; k < TW_PROFILE_KINDS; k++) {
    if (k == TW_PROFILE_BLOCK && !(on & TW_PROF_BLOCK)) continue;
    if (k == TW_PROFILE_MUTEX && !(on & TW_PROF_MUTEX)) continue;
    const char *name = tw_profile_kind_name((enum tw_profile_kind)k);
    write_file(dir, pid, name, "pb.gz", PPROF, (enum tw_profile_kind)k);
    write_file(dir, pid, name, "folded", FOLDED, (enum tw_profile_kind)k);
  }
  if (on) write_file(dir, pid, "contention", "json", TABLE_JSON, TW_PROFILE_THREADS);
}

void tw_profiles_at_exit(void) {
  if (tw_profile_on()) tw_report_log_render(table_text, NULL);
  if (tw__opt.profile_dir[0]) write_dir();
}
