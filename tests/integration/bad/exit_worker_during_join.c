/*
 * Issue 11 item 5: a worker calls exit(4) while main waits for it in pthread_join. The process must
 * end with status 4, never a crash. Baseline: the exit-time leak pass "locates" the exiting thread
 * itself (reads its own /proc syscall file and unwinds its own live stack remotely), gets garbage
 * frames, and symbolizing one of them refreshes libdw's module list, which frees the strings that
 * earlier cache entries point to: the text writer then prints a dangling function name (SIGSEGV in
 * about 1 run of 4, depending on the address layout). Each of 30 children runs the scenario once
 * in a fresh exec of this program (its own address layout); main prints how many ended with
 * status 4.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "tw_test.h"

static pid_t main_tid;

static void *worker(void *arg) {
  (void)arg;
  tw_test_wait_in_syscall(main_tid, SYS_futex); /* main is inside pthread_join */
  exit(4);
}

static void scenario(void) {
  pthread_t t;
  main_tid = tw_test_gettid();
  TW_OK(pthread_create(&t, NULL, worker, NULL));
  pthread_join(t, NULL); /* never returns: the worker ends the process */
  _exit(99);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "scenario") == 0) scenario();
  int ok = 0, rounds = 30;
  for (int i = 0; i < rounds; i++) {
    fflush(stdout);
    pid_t pid = fork();
    TW_CHECK(pid >= 0);
    if (pid == 0) {
      execl("/proc/self/exe", argv[0], "scenario", (char *)NULL);
      _exit(98);
    }
    int status;
    TW_CHECK(waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 4) ok++;
    else if (WIFSIGNALED(status)) printf("round %d: killed by signal %d\n", i, WTERMSIG(status));
    else printf("round %d: exit status %d\n", i, WEXITSTATUS(status));
  }
  printf("%d of %d ended with status 4\n", ok, rounds);
  return 0;
}
