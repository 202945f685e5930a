/* The CLI's commands and the helpers they share (tools/threadwatch.c has main and the table). */
#ifndef TW_TOOLS_CLI_H
#define TW_TOOLS_CLI_H

#include <stdio.h>

#ifndef TW_VERSION
#define TW_VERSION "0.0.0"
#endif

/* Each command: argv[0] is the command's name; returns the exit status. */
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_suppress(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_attach(int argc, char **argv); /* attach.c */
int cmd_options(int argc, char **argv);

/* "threadwatch: " + the message + newline on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Bad use: "threadwatch CMD: " + the message, then the command's usage line and a pointer to
 * --help, on stderr; returns 2. */
int cli_misuse(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the help of command `cmd` (its usage, options and notes) to f; returns 0, or 2 for an
 * unknown command. */
int cli_help(const char *cmd, FILE *f);

/* "threadwatch 0.1.0" on stdout; returns 0. */
int cli_version(void);

/* The process a thread id belongs to (its Tgid), 0 when unknown. */
long tw_cli_tgid(long id);

/* Long options every command takes; getopt_long returns these for them. */
enum { CLI_OPT_HELP = 'h', CLI_OPT_VERSION = 0x1000 };

#endif
