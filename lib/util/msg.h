/*
 * msg.h - diagnostics and logging in Postfix's form.
 *
 * Contract: one call, one line: "Mon DD HH:MM:SS host faxpost/PROG[pid]: text".
 * Lines about a message start with its queue ID ("3F2A8C1D0E: to=<...>, ..."), which
 * callers put in the format. A line is written with one write(2) to the log file
 * (O_APPEND; created 0640) and/or syslog(3), as msg_open() was told; before msg_open()
 * lines go to stderr. Control characters in the text are escaped, so network input
 * cannot forge lines. msg_fatal() logs and exits 1; msg_panic() logs and aborts.
 * Severity prefixes as Postfix: "warning: ", "error: ", "fatal: ", "panic: ".
 */
#ifndef FAXPOST_UTIL_MSG_H
#define FAXPOST_UTIL_MSG_H

#include <stdarg.h>
#include <stddef.h>

#define MSG_TO_FILE	1
#define MSG_TO_SYSLOG	2
#define MSG_TO_STDERR	4

/* progname: "smtpd" (logged as "faxpost/smtpd"); path may be NULL; facility e.g. "mail". */
void msg_open(const char *progname, int where, const char *path, const char *facility);
void msg_reopen(void);				/* after logrotate (SIGHUP) */
void msg_set_verbose(int level);
extern int msg_verbose;

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_vlog(const char *prefix, const char *fmt, va_list ap);

/* Allocation that dies on failure (logs "fatal: out of memory"). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
