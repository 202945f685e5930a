/* The tool's own messages: one path to stderr for every line threadwatch says outside a report
 * (errors in options, files it cannot open, limits reached). Each message is one line: control
 * bytes in it (a newline in an option value, a byte of a hostile file name) are shown escaped, so
 * a message can never fake another line. At most TW_MSG_MAX lines per process (then one line says
 * the rest are not shown): a program that keeps hitting a limit cannot flood its own stderr. */
#ifndef TW_BASE_MSG_H
#define TW_BASE_MSG_H

#include <stddef.h>

/* A formatted message, "threadwatch: " prepended unless the text starts with "==" or
 * "threadwatch". Not async-signal-safe (vsnprintf): not for paths a signal handler reaches. */
void tw_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same for a fixed text, async-signal-safe (no formatting, no allocation, no lock). */
void tw_msg_str(const char *text);

/* Copies `s` into out[n] as a quoted, printable value for a message: '...' with control bytes and
 * quotes escaped (\n, \x1b, \'), cut with "..." past n. */
void tw_msg_quote(char *out, size_t n, const char *s);

#endif
