/* `threadwatch attach PID`: the snapshot of a process that is not under the preload, shared by the
 * files that take it (attach.c: ptrace, registers, stacks, memory, fds), read its waits and solve
 * them (attach_wait.c), print it (attach_print.c) and make it a thread profile (attach_profile.c).
 * docs/attach.md describes the whole. */
#ifndef TW_TOOLS_ATTACH_H
#define TW_TOOLS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "detect/waitfor.h"

/* Frames read per thread; a deeper stack is cut (the outermost frames are the least telling). */
#define AT_MAX_FRAMES 64
/* Bytes of the target's memory kept around a futex word: a pthread_mutex_t, pthread_cond_t,
 * pthread_rwlock_t, sem_t or pthread_barrier_t that holds the word lies in this window. */
#define AT_AROUND 64
/* Bytes of a blocked thread's stack kept from its stack pointer up: where glibc's condvar wait
 * keeps its cleanup buffer (the condvar and its mutex). */
#define AT_STACK_COPY 1024
/* fds of a poll or select read per thread; an epoll's watched fds listed per epoll. */
#define AT_MAX_POLLFDS 32

/* What a thread waits for, as read from outside. */
enum at_wait {
  AT_W_NONE = 0,  /* running, or in a system call that waits for nothing we can name */
  AT_W_MUTEX,     /* futex on a pthread_mutex_t's __lock */
  AT_W_LLL,       /* a libc-internal lock (malloc, stdio, ...) */
  AT_W_COND,      /* futex on a pthread_cond_t's __g_signals[] */
  AT_W_JOIN,      /* futex on the joined thread's tid word */
  AT_W_RWLOCK,
  AT_W_SEM,
  AT_W_BARRIER,
  AT_W_FUTEX,     /* a futex we cannot name */
  AT_W_FD,        /* read/write/recv/send/accept on one fd */
  AT_W_POLL,      /* poll, ppoll, select, pselect, epoll_wait on several fds */
  AT_W_SLEEP,     /* nanosleep, clock_nanosleep */
  AT_W_SIGNAL,    /* pause, sigsuspend, sigwait */
  AT_W_CHILD,     /* wait4, waitid */
};

/* One open fd of the process, as /proc/PID/fd and fdinfo show it. */
struct at_fd {
  int fd;
  int flags;              /* fdinfo flags (O_ACCMODE: which end of a pipe) */
  char link[96];          /* "pipe:[123]", "socket:[45]", "anon_inode:[eventfd]", a path */
  unsigned long inode;    /* of a pipe or socket; 0 otherwise */
  long long eventfd_id;   /* fdinfo eventfd-id (-1 when not an eventfd) */
  long long eventfd_count;
  int ntfd;               /* an epoll: the fds it watches */
  int tfd[AT_MAX_POLLFDS];
  char sock[64];          /* a socket: "unix stream", "tcp 127.0.0.1:80", ... ("" unknown) */
};

struct at_thread {
  int tid;
  uint64_t id;            /* T number: T1 the main thread, then by tid */
  char name[16];          /* "" when it is the process's own name (never set) */
  char pstate;            /* /proc state letter before we stopped it */
  uint64_t idle_ns;       /* how long since it last ran (0 unknown): what "for 2.00s" says */
  bool idle_known;
  int cpu;                /* the CPU it last ran on, -1 unknown */
  double exec_start_ms;   /* /proc/TID/sched se.exec_start: when it last ran, that CPU's clock */
  double read_at_ms;      /* CLOCK_MONOTONIC when that was read */
  bool stopped;           /* ptrace stopped it in time */
  bool gone;              /* it exited while we looked */
  int pending_sig;        /* a signal it stopped with, given back at detach */
  bool have_regs;
  struct user_regs_struct regs;
  long sc;                /* system call it is blocked in, -1 none */
  uint64_t arg[6];
  /* memory and stack read while it was stopped */
  int npcs;
  uintptr_t pcs[AT_MAX_FRAMES];
  bool around_ok;
  uint8_t around[2 * AT_AROUND]; /* [futex - AT_AROUND, futex + AT_AROUND) */
  uintptr_t cond_base, cond_mutex; /* from the condvar wait's cleanup buffer, 0 if not found */
  int npollfd;
  int pollfd[AT_MAX_POLLFDS];
  /* what it waits for (attach_wait.c) */
  enum at_wait wait;
  const char *call;       /* the function it is blocked in, as a user wrote it ("read") */
  char callbuf[40];       /* where `call` points when it is a name read from the stack */
  bool timed;             /* ends by itself */
  uintptr_t addr;         /* the object's address */
  int fd;                 /* AT_W_FD */
  int target;             /* index of the thread it joins, the lock's holder, ... -1 none */
  int holder_tid;         /* lock waits: the holder's tid from the lock word, 0 none */
  bool self_relock;
  char object[160];       /* "mutex 0x... (lock_a)", "pipe fd 3", ... */
  char note[200];         /* running: "in system call pause at f (x.c:3)"; blocked: a fact */
  int first_app;          /* index of the first pc that is not in libc (the program's call) */
};

/* The graph node of a thread: the solver's view first (detect/waitfor.h). */
struct at_node {
  struct tw_wf_node wf;
};

/* Threads listed in one deadlock report at most (an all-asleep report of a big process counts the
 * rest). */
#define AT_REPORT_THREADS 32
#define AT_MAX_REPORTS 16

/* A deadlock found in the snapshot, as data (attach_print.c renders it). */
struct at_report {
  const char *what;       /* "wait-cycle", "self-relock", "all-asleep" */
  char message[1024];
  size_t count;           /* threads it stands for */
  size_t n;
  int idx[AT_REPORT_THREADS]; /* the listed threads, in the order of the message */
};

struct at_snapshot {
  pid_t pid;
  pid_t live;             /* a live thread: its /proc/PID/task/TID entry stands for the process even
                           * when the main thread has left (then /proc/PID/fd, exe, net are empty) */
  struct at_thread *t;
  size_t n;
  size_t nstopped;
  struct at_fd *fds;
  size_t nfds;
  bool handlers;          /* the process catches some signal (SigCgt): a handler may write a pipe */
  uint64_t stopped_ns;    /* how long the threads were stopped */
  uint64_t took_ns;       /* the whole attach, to the verdict */
  char exe[256];
  /* the verdict */
  struct at_node *nodes;
  size_t nstuck;
  struct at_report reports[AT_MAX_REPORTS];
  size_t nreports;
};

/* --- attach.c --- */
/* Reads n bytes of the target's memory at addr (stopped or not). 0 or -errno. */
int at_read(pid_t pid, uintptr_t addr, void *out, size_t n);
/* The fd record of fd, or NULL. */
const struct at_fd *at_fd_of(const struct at_snapshot *s, int fd);
/* Index of the live thread with this tid, or -1. */
int at_index_of_tid(const struct at_snapshot *s, int tid);

/* --- attach_wait.c --- */
/* Fills every thread's wait, object and note from what was read, and the nodes' rules. */
void at_classify(struct at_snapshot *s);
/* The stuck threads (of those `keep` marks, when given): sets nodes[].wf.stuck, returns the count. */
size_t at_solve(struct at_snapshot *s, const bool *keep);
/* The deadlock reports of the stuck set: self-relocks, wait-cycles, else all-asleep. */
void at_verdict(struct at_snapshot *s);
/* "f (x.c:3)" for the thread's innermost frame of the program's own code. */
void at_where(const struct at_thread *t, char *buf, size_t n);
/* "pthread_mutex_lock() on mutex 0x... (held by T3) at f (x.c:3)" */
void at_wait_phrase(const struct at_snapshot *s, const struct at_thread *t, char *buf, size_t n);
/* The locks the wait-for graph shows thread i holding, described, comma-separated ("" none). */
void at_held(const struct at_snapshot *s, size_t i, char *buf, size_t n);
/* Whether a module path is the C library's (its frames are cut from blocked threads' stacks). */
bool at_is_libc(const char *module);

/* --- attach_print.c --- */
/* Prints the dump and the verdict. Returns the exit status: 0 no deadlock, 66 a deadlock. */
int at_print(struct at_snapshot *s, bool all, bool json);
/* Index of the first frame shown of a thread's stack: a blocked thread's from the program's call
 * into the C library on (its frame 0), a running thread's all. */
int at_first_shown(const struct at_thread *t);

/* --- attach_profile.c --- */
struct tw_profile;
/* The snapshot as the library's thread profile (docs/profiles.md): one sample per thread, value 1,
 * the frames attach prints, labels state, wait, object, name, thread, tid. 0 or -ENOMEM. */
int at_profile(const struct at_snapshot *s, struct tw_profile *p);
/* The profile as gzipped pprof (symbols and mappings of the target) written to fd. 0 or -errno. */
int at_profile_pprof(const struct at_snapshot *s, const struct tw_profile *p, int fd);
/* The profile as folded stacks written to fd. 0 or -errno. */
int at_profile_folded(const struct tw_profile *p, int fd);

#endif
