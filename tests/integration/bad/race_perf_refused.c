/* perf_event_open refused by the kernel: the program installs a seccomp filter that makes
 * perf_event_open fail with EACCES (as a container or a strict perf_event_paranoid would), then
 * runs itself again under it with the racy counter of bad/race_counter.c watched. Race watching
 * says once that it is off and why; nothing else changes (no report, the program's own status). */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "tw_test.h"

static volatile long counter;
static pid_t first_tid;

TW_NOINLINE static void inc_a(void) { counter++; }
TW_NOINLINE static void inc_b(void) { counter++; }

static void *thread_a(void *arg) {
  *(volatile pid_t *)arg = tw_test_gettid();
  for (int i = 0; i < 50; i++) inc_a();
  return NULL;
}

static void *thread_b(void *arg) {
  (void)arg;
  tw_test_wait_gone(first_tid);
  for (int i = 0; i < 50; i++) inc_b();
  return NULL;
}

/* perf_event_open -> EACCES, every other system call allowed. */
static void refuse_perf_event_open(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_perf_event_open, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
  TW_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  TW_CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    refuse_perf_event_open();
    execl("/proc/self/exe", argv[0], "refused", (char *)NULL);
    return 99;
  }
  pthread_t a, b;
  volatile pid_t tid = 0;
  TW_OK(pthread_create(&a, NULL, thread_a, (void *)&tid));
  unsigned long spins = 0;
  while (tid == 0) tw_test_pause(&spins, "T2 to start", 0, 0);
  first_tid = tid;
  TW_OK(pthread_create(&b, NULL, thread_b, NULL));
  TW_OK(pthread_join(b, NULL)); /* b first: see race_counter.c */
  TW_OK(pthread_join(a, NULL));
  printf("counter = %ld\n", counter);
  return 0;
}
