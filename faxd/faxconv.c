/*
 * faxconv.c - a queued mail message becomes the fax document via codecd.
 *
 * Contract: see faxconv.h. The decoded parts travel to codecd as memfd descriptors;
 * codecd (sandboxed) does the rendering, so faxd never parses PDF or images itself.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec/client.h"
#include "faxconv.h"
#include "mail/config.h"
#include "mail/mimepart.h"
#include "util/buf.h"
#include "util/msg.h"

#define FAXCONV_TIMEOUT_MS (10 * 60 * 1000)

typedef struct faxconv_parts {
	int fds[CODEC_MAX_PARTS];
	const char *types[CODEC_MAX_PARTS];
	char type_buf[CODEC_MAX_PARTS][64];
	size_t n;
	int failed;
} faxconv_parts;

static int faxconv_wanted(const char *type)
{
	static const char *const ok[] = { "text/plain", "application/pdf", "image/png",
					  "image/jpeg", "image/tiff" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(type, ok[i]) == 0)
			return 1;
	return 0;
}

static int faxconv_blank(const buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (!isspace((unsigned char)b->data[i]))
			return 0;
	return 1;
}

/* mime_walk callback: decode a part codecd can render into a memfd. */
static int faxconv_part(const mime_part *p, void *ud)
{
	faxconv_parts *ps = ud;
	buf body;
	int fd;

	if (!faxconv_wanted(p->type) || ps->n >= CODEC_MAX_PARTS)
		return 0;
	buf_init(&body, 0);
	if (mime_decode(p, &body) < 0 || (strcmp(p->type, "text/plain") == 0 && faxconv_blank(&body))) {
		buf_free(&body);
		return 0;
	}
	fd = memfd_create("faxpart", MFD_CLOEXEC);
	if (fd < 0 || write(fd, body.data, body.len) != (ssize_t)body.len || lseek(fd, 0, SEEK_SET) < 0) {
		if (fd >= 0)
			close(fd);
		buf_free(&body);
		ps->failed = 1;
		return 1;
	}
	buf_free(&body);
	str_copy(ps->type_buf[ps->n], sizeof(ps->type_buf[0]), p->type);
	ps->types[ps->n] = ps->type_buf[ps->n];
	ps->fds[ps->n++] = fd;
	return 0;
}

int faxconv_document(const char *msg, size_t len, int out_fd, const char *target,
		     char *status, size_t statuslen, char *reason, size_t reasonlen)
{
	faxconv_parts ps;
	codec_result res;
	char sock[4096];
	int rc = -1;

	memset(&ps, 0, sizeof(ps));
	mime_walk(msg, len, faxconv_part, &ps);
	if (ps.failed) {
		snprintf(status, statuslen, "4.3.0");
		snprintf(reason, reasonlen, "cannot buffer a message part for conversion");
		goto done;
	}
	if (ps.n == 0) {
		snprintf(status, statuslen, "5.6.1");
		snprintf(reason, reasonlen, "nothing in the message can be faxed (text, PDF,"
			 " TIFF, PNG or JPEG)");
		goto done;
	}
	snprintf(sock, sizeof(sock), "%s/private/codecd", conf_str("queue_directory"));
	memset(&res, 0, sizeof(res));
	codecd_convert(sock, ps.fds, ps.types, ps.n, out_fd, target, FAXCONV_TIMEOUT_MS, &res);
	snprintf(status, statuslen, "%s", res.status[0] ? res.status : "4.3.0");
	snprintf(reason, reasonlen, "%s", res.reason);
	if (strncmp(status, "2.", 2) == 0) {
		msg_info("converted %zu part(s) into %zu fax page(s)", ps.n, res.pages);
		rc = 0;
	}
done:
	for (size_t i = 0; i < ps.n; i++)
		close(ps.fds[i]);
	return rc;
}
