/*
 * mime_build.c - compose a MIME message with attached files (see mime_build.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/mime_build.h"
#include "util/msg.h"

static int mime_header_ok(const char *s)
{
	return s && !strpbrk(s, "\r\n");
}

int mime_base64(buf *out, const void *data, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t col = 0, need;
	char *o;

	/* 4 bytes per 3, plus CRLF per 76 columns */
	if (size_add(len, 2, &need) < 0 || size_mul(need / 3, 4, &need) < 0 ||
	    size_add(need, (need / 76 + 1) * 2, &need) < 0 || buf_reserve(out, need) < 0)
		return -1;
	o = out->data + out->len;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = n > 1 ? tab[(v >> 6) & 63] : '=';
		*o++ = n > 2 ? tab[v & 63] : '=';
		if ((col += 4) == 76) {
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
		}
	}
	if (col) {
		*o++ = '\r';
		*o++ = '\n';
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = 0;
	return 0;
}

const char *mime_type_of(const char *filename)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "pdf", "application/pdf" }, { "tif", "image/tiff" }, { "tiff", "image/tiff" },
		{ "txt", "text/plain" }, { "text", "text/plain" }, { "png", "image/png" },
		{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	};
	const char *dot = strrchr(filename, '.');

	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

int mime_begin(mime_msg *m, buf *out, const char *from, const char *const *to, size_t nto,
	       const char *subject, const char *id_domain)
{
	struct timeval tv;
	struct tm tm;
	char date[64];

	m->out = out;
	gettimeofday(&tv, NULL);
	snprintf(m->boundary, sizeof(m->boundary), "=_faxpost_%lx_%lx_%lx", (long)tv.tv_sec,
		 (long)tv.tv_usec, (long)getpid());
	if (!mime_header_ok(from) || !mime_header_ok(subject) || !mime_header_ok(id_domain))
		return -1;
	localtime_r(&tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (buf_printf(out, "From: <%s>\r\nTo: ", from) < 0)
		return -1;
	for (size_t i = 0; i < nto; i++)
		if (!mime_header_ok(to[i]) || buf_printf(out, "%s<%s>", i ? ",\r\n\t" : "", to[i]) < 0)
			return -1;
	return buf_printf(out, "\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%ld.%ld.%ld@%s>\r\n"
			  "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n"
			  "\r\nThis is a MIME message.\r\n", subject, date, (long)tv.tv_sec,
			  (long)tv.tv_usec, (long)getpid(), id_domain, m->boundary) < 0 ? -1 : 0;
}

int mime_add_text(mime_msg *m, const char *text)
{
	const char *p = text;

	if (buf_printf(m->out, "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		       "Content-Transfer-Encoding: 8bit\r\n\r\n", m->boundary) < 0)
		return -1;
	/* LF or CRLF in, CRLF out; a line "--boundary" cannot occur: the boundary is unique */
	while (*p) {
		size_t n = strcspn(p, "\r\n");

		if (buf_append(m->out, p, n) < 0 || buf_append(m->out, "\r\n", 2) < 0)
			return -1;
		p += n;
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
	}
	return 0;
}

int mime_add_file(mime_msg *m, const char *type, const char *filename, const void *data,
		  size_t len)
{
	const char *base = strrchr(filename, '/') ? strrchr(filename, '/') + 1 : filename;

	if (!mime_header_ok(type) || strpbrk(base, "\"\\\r\n"))
		return -1;
	if (buf_printf(m->out, "\r\n--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
		       "Content-Disposition: attachment; filename=\"%s\"\r\n"
		       "Content-Transfer-Encoding: base64\r\n\r\n", m->boundary, type, base, base) < 0)
		return -1;
	return mime_base64(m->out, data, len);
}

int mime_end(mime_msg *m)
{
	return buf_printf(m->out, "\r\n--%s--\r\n", m->boundary) < 0 ? -1 : 0;
}
