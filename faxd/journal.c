/*
 * journal.c - append one line per fax call to data_directory/fax_journal (journal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "util/buf.h"
#include "util/msg.h"

static void put_value(buf *b, const char *name, const char *v)
{
	if (!v || !*v)
		v = "-";
	int quote = strpbrk(v, " \t") != NULL;
	buf_printf(b, " %s=%s", name, quote ? "\"" : "");
	for (const char *p = v; *p; p++) {
		char c = *p;
		if (c == '"' || c == '\\' || (unsigned char)c < 0x20 || c == 0x7f)
			c = '?';
		buf_append_char(b, c);
	}
	if (quote)
		buf_append_char(b, '"');
}

int journal_append(const char *data_dir, const journal_entry *e)
{
	char path[4096], ts[32];
	if (snprintf(path, sizeof(path), "%s/fax_journal", data_dir) >= (int)sizeof(path))
		return -1;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf b;
	buf_init(&b, 8192);
	buf_printf(&b, "time=%s", ts);
	put_value(&b, "dir", e->dir);
	put_value(&b, "id", e->id);
	put_value(&b, "number", e->number);
	put_value(&b, "device", e->device);
	put_value(&b, "remote", e->remote);
	buf_printf(&b, " pages=%d/%d speed=%d", e->pages_done, e->pages_total, e->speed);
	put_value(&b, "coding", e->coding);
	buf_printf(&b, " ecm=%s duration=%.1f", e->ecm ? "yes" : "no", e->duration);
	put_value(&b, "status", e->status);
	put_value(&b, "dsn", e->dsn);
	put_value(&b, "class", e->retry_class);
	put_value(&b, "reason", e->reason);
	buf_append_char(&b, '\n');
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	int rc = -1;
	if (fd >= 0) {
		rc = write(fd, b.data, b.len) == (ssize_t)b.len ? 0 : -1;
		close(fd);
	}
	if (rc < 0)
		msg_warn("cannot append to %s: %s", path, strerror(errno));
	buf_free(&b);
	return rc;
}
