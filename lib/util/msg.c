/*
 * msg.c - diagnostics and logging in Postfix's form.
 *
 * Contract (see msg.h): one call makes one line, written with a single write(2):
 *   "Nov 22 11:46:27 host faxpost/PROG[pid]: warning: text\n"
 * to maillog_file (opened O_APPEND, created 0640) and/or syslog(3), as msg_open()
 * said. Before msg_open() the line goes to stderr in the short form the Postfix
 * commands use on a terminal ("faxpost/PROG: warning: text"). Control characters in
 * the text are escaped (\n \r \t, else \xHH) so peer input cannot forge log lines;
 * a line longer than MSG_LINE_MAX is cut (never inside an escape or a UTF-8 sequence)
 * and ends in "...". msg_fatal() exits 1, msg_panic() aborts. errno is preserved, so
 * "%m" works and callers may log between a failing call and their errno check.
 * No allocation on the logging path: xmalloc() failure logs through here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/msg.h"

#define MSG_LINE_MAX 2048	/* whole line, newline included */
#define MSG_PROG_MAX 64
#define MSG_HOST_MAX 256

int msg_verbose;

/* The header leaves the va_list variant unannotated; tell the compiler here. */
void msg_vlog(const char *prefix, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static struct {
	char prog[MSG_PROG_MAX];	/* "faxpost/smtpd" */
	char host[MSG_HOST_MAX];
	char path[4096];
	int where;
	int fd;
	int opened;
} msg_state = { .fd = -1 };

static const struct {
	const char *name;
	int facility;
} msg_facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static void msg_set_prog(const char *progname)
{
	const char *p = progname ? progname : program_invocation_short_name;

	if (strncmp(p, "faxpost/", 8) == 0 || strcmp(p, "faxpost") == 0)
		str_copy(msg_state.prog, sizeof(msg_state.prog), p);
	else
		snprintf(msg_state.prog, sizeof(msg_state.prog), "faxpost/%s", p);
}

/* The short host name, as syslog writes it. */
static void msg_set_host(void)
{
	char *dot;

	if (gethostname(msg_state.host, sizeof(msg_state.host) - 1) < 0)
		str_copy(msg_state.host, sizeof(msg_state.host), "localhost");
	msg_state.host[sizeof(msg_state.host) - 1] = 0;
	if ((dot = strchr(msg_state.host, '.')) != NULL && dot != msg_state.host)
		*dot = 0;
}

static int msg_facility(const char *name)
{
	size_t i;

	if (name)
		for (i = 0; i < sizeof(msg_facilities) / sizeof(msg_facilities[0]); i++)
			if (strcasecmp(name, msg_facilities[i].name) == 0)
				return msg_facilities[i].facility;
	return LOG_MAIL;
}

static int msg_open_file(void)
{
	int fd;

	if (!msg_state.path[0])
		return -1;
	fd = open(msg_state.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0)
		return -1;
	msg_state.fd = fd;
	return 0;
}

void msg_open(const char *progname, int where, const char *path, const char *facility)
{
	int saved = errno;

	msg_set_prog(progname);
	msg_set_host();
	tzset();	/* load the zone now: a chrooted daemon cannot read it later */
	if (msg_state.fd >= 0)
		close(msg_state.fd);
	msg_state.fd = -1;
	msg_state.path[0] = 0;
	if (path && str_copy(msg_state.path, sizeof(msg_state.path), path) < 0)
		msg_state.path[0] = 0;
	msg_state.where = where;
	msg_state.opened = 1;
	if (where & MSG_TO_SYSLOG)
		openlog(msg_state.prog, LOG_PID | LOG_NDELAY, msg_facility(facility));
	if ((where & MSG_TO_FILE) && msg_open_file() < 0) {
		/* Say so where someone will see it, and keep logging to stderr. */
		msg_state.where |= MSG_TO_STDERR;
		msg_warn("cannot open log file %s: %m; logging to stderr", path ? path : "(none)");
	}
	errno = saved;
}

void msg_reopen(void)
{
	int saved = errno;

	if (!(msg_state.where & MSG_TO_FILE))
		return;
	if (msg_state.fd >= 0)
		close(msg_state.fd);
	msg_state.fd = -1;
	if (msg_open_file() < 0) {
		msg_state.where |= MSG_TO_STDERR;
		msg_warn("cannot reopen log file %s: %m", msg_state.path);
	}
	errno = saved;
}

void msg_set_verbose(int level)
{
	msg_verbose = level;
}

/* Length of the well-formed-looking UTF-8 sequence at p, else 1 (so a cut never
 * splits a character and a stray lead byte cannot swallow a control character). */
static size_t msg_utf8_len(const unsigned char *p)
{
	size_t n, i;

	if (p[0] >= 0xf0 && p[0] < 0xf8)
		n = 4;
	else if (p[0] >= 0xe0 && p[0] < 0xf0)
		n = 3;
	else if (p[0] >= 0xc0 && p[0] < 0xe0)
		n = 2;
	else
		return 1;
	for (i = 1; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 1;
	return n;
}

/* Copy text into out (room bytes, no NUL needed) escaping control characters.
 * Returns bytes written; cuts at a whole character and marks the cut with "...". */
static size_t msg_escape(const char *text, char *out, size_t room)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)text;
	size_t n = 0, need;
	char esc[4];

	if (room < 3)
		return 0;
	room -= 3;	/* keep space for "..." */
	while (*p) {
		if (*p < 0x20 || *p == 0x7f) {
			esc[0] = '\\';
			switch (*p) {
			case '\n': esc[1] = 'n'; need = 2; break;
			case '\r': esc[1] = 'r'; need = 2; break;
			case '\t': esc[1] = 't'; need = 2; break;
			default:
				esc[1] = 'x';
				esc[2] = hex[*p >> 4];
				esc[3] = hex[*p & 15];
				need = 4;
			}
			if (n + need > room)
				goto cut;
			memcpy(out + n, esc, need);
			n += need;
			p++;
			continue;
		}
		need = msg_utf8_len(p);
		if (n + need > room)
			goto cut;
		memcpy(out + n, p, need);
		n += need;
		p += need;
	}
	return n;
cut:
	memcpy(out + n, "...", 3);
	return n + 3;
}

static int msg_priority(const char *prefix)
{
	if (strncmp(prefix, "warning", 7) == 0)
		return LOG_WARNING;
	if (strncmp(prefix, "error", 5) == 0)
		return LOG_ERR;
	if (strncmp(prefix, "fatal", 5) == 0 || strncmp(prefix, "panic", 5) == 0)
		return LOG_CRIT;
	return LOG_INFO;
}

/* write(2) all of it; a log line is small, so one write succeeds in practice. */
static void msg_write(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Build "[header]prefix text\n" into line; returns its length. */
static size_t msg_format(char *line, size_t size, int full, const char *prefix,
			 const char *text)
{
	char stamp[32];
	struct tm tm;
	time_t now;
	int h;
	size_t n, room;

	if (!msg_state.prog[0])
		msg_set_prog(NULL);
	if (full) {
		if (!msg_state.host[0])
			msg_set_host();
		now = time(NULL);
		localtime_r(&now, &tm);
		if (strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
			stamp[0] = 0;
		h = snprintf(line, size, "%s %s %s[%ld]: %s", stamp, msg_state.host,
			     msg_state.prog, (long)getpid(), prefix);
	} else {
		h = snprintf(line, size, "%s: %s", msg_state.prog, prefix);
	}
	if (h < 0)
		h = 0;
	n = (size_t)h < size - 1 ? (size_t)h : size - 1;
	room = size - 1 - n;	/* 1 for the newline */
	n += msg_escape(text, line + n, room);
	line[n++] = '\n';
	return n;
}

void msg_vlog(const char *prefix, const char *fmt, va_list ap)
{
	char text[MSG_LINE_MAX];
	char line[MSG_LINE_MAX + 1];
	size_t n;
	int saved = errno;
	int where = msg_state.opened ? msg_state.where : MSG_TO_STDERR;

	if (!prefix)
		prefix = "";
	vsnprintf(text, sizeof(text), fmt, ap);
	if ((where & MSG_TO_FILE) && msg_state.fd >= 0) {
		n = msg_format(line, MSG_LINE_MAX, 1, prefix, text);
		msg_write(msg_state.fd, line, n);
	}
	if (where & MSG_TO_SYSLOG) {
		n = msg_format(line, MSG_LINE_MAX, 0, prefix, text);
		line[n - 1] = 0;
		/* syslog adds its own header: strip our "faxpost/PROG: " */
		syslog(msg_priority(prefix), "%s", line + strlen(msg_state.prog) + 2);
	}
	if (where & MSG_TO_STDERR) {
		n = msg_format(line, MSG_LINE_MAX, msg_state.opened, prefix, text);
		msg_write(STDERR_FILENO, line, n);
	}
	errno = saved;
}

#define MSG_BODY(prefix) do {		\
		va_list ap;		\
		va_start(ap, fmt);	\
		msg_vlog(prefix, fmt, ap); \
		va_end(ap);		\
	} while (0)

void msg_info(const char *fmt, ...)
{
	MSG_BODY("");
}

void msg_warn(const char *fmt, ...)
{
	MSG_BODY("warning: ");
}

void msg_error(const char *fmt, ...)
{
	MSG_BODY("error: ");
}

void msg_fatal(const char *fmt, ...)
{
	static int dying;

	if (dying++)
		_exit(1);	/* msg_fatal() from an exit handler */
	MSG_BODY("fatal: ");
	exit(1);
}

void msg_panic(const char *fmt, ...)
{
	static int dying;

	if (!dying++)
		MSG_BODY("panic: ");
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		msg_fatal("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	p = calloc(n, size);
	if (!p)
		msg_fatal("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		msg_fatal("out of memory (%zu bytes)", n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = 0;
	return p;
}
