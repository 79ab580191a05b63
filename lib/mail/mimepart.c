/*
 * mimepart.c - leaf parts of a MIME message (see mimepart.h for the contract).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/mimepart.h"

/* End of the header block: the offset of the body, or len when there is none. */
static size_t header_end(const char *m, size_t len)
{
	/* No headers at all: the body starts after the first (empty) line. */
	if (len >= 1 && m[0] == '\n')
		return 1;
	if (len >= 2 && m[0] == '\r' && m[1] == '\n')
		return 2;
	for (size_t i = 0; i < len; i++) {
		if (m[i] != '\n')
			continue;
		if (i + 1 < len && m[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && m[i + 1] == '\r' && m[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

int mime_header(const char *h, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name), i = 0;

	while (i < len) {
		size_t eol = i;

		while (eol < len && h[eol] != '\n')
			eol++;
		if (eol - i > nlen && strncasecmp(h + i, name, nlen) == 0 && h[i + nlen] == ':') {
			size_t o = 0, p = i + nlen + 1;

			/* The value, with continuation lines unfolded into single spaces. */
			for (;;) {
				for (; p < eol; p++) {
					char c = h[p];

					if (c == '\r' || (o == 0 && (c == ' ' || c == '\t')))
						continue;
					if (o + 1 < outlen)
						out[o++] = c == '\t' ? ' ' : c;
				}
				if (eol + 1 < len && (h[eol + 1] == ' ' || h[eol + 1] == '\t')) {
					p = eol + 1;
					for (eol = p; eol < len && h[eol] != '\n'; eol++)
						;
					continue;
				}
				break;
			}
			while (o > 0 && out[o - 1] == ' ')
				o--;
			out[o] = 0;
			return 0;
		}
		i = eol + 1;
	}
	return -1;
}

int mime_param(const char *value, const char *param, char *out, size_t outlen)
{
	size_t plen = strlen(param);

	for (const char *s = strchr(value, ';'); s; s = strchr(s + 1, ';')) {
		const char *p = s + 1;
		size_t o = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, param, plen) != 0 || p[plen] != '=')
			continue;
		p += plen + 1;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (o + 1 < outlen)
					out[o++] = *p;
		} else {
			for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++)
				if (o + 1 < outlen)
					out[o++] = *p;
		}
		out[o] = 0;
		return 0;
	}
	return -1;
}

static void lower_type(const char *ct, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *ct && *ct != ';' && *ct != ' ' && o + 1 < outlen; ct++)
		out[o++] = (char) tolower((unsigned char) *ct);
	out[o] = 0;
	if (o == 0 || strchr(out, '/') == NULL)
		snprintf(out, outlen, "text/plain");
}

/* Next line that is "--boundary" (or "--boundary--") from pos; the offset of its
 * start, *close set for the closing one; len when none. */
static size_t find_boundary(const char *m, size_t len, size_t pos, const char *b, int *close)
{
	size_t blen = strlen(b);

	for (size_t i = pos; i + 2 + blen <= len; i++) {
		if ((i == 0 || m[i - 1] == '\n') && m[i] == '-' && m[i + 1] == '-'
		    && memcmp(m + i + 2, b, blen) == 0) {
			*close = i + 4 + blen <= len && m[i + 2 + blen] == '-' && m[i + 3 + blen] == '-';
			return i;
		}
	}
	*close = 1;
	return len;
}

static size_t line_after(const char *m, size_t len, size_t i)
{
	while (i < len && m[i] != '\n')
		i++;
	return i < len ? i + 1 : len;
}

typedef struct walk { mime_cb cb; void *ud; int parts; } walk;

static int walk_entity(walk *w, const char *m, size_t len, int depth)
{
	size_t hend = header_end(m, len);
	char ct[512] = "", type[64], boundary[128];
	mime_part p;

	if (++w->parts > MIME_MAX_PARTS)
		return 0;
	mime_header(m, hend, "Content-Type", ct, sizeof ct);
	lower_type(ct, type, sizeof type);
	if (strncmp(type, "multipart/", 10) == 0 && depth < MIME_MAX_DEPTH
	    && mime_param(ct, "boundary", boundary, sizeof boundary) == 0 && boundary[0]) {
		int close;
		size_t at = find_boundary(m, len, hend, boundary, &close);

		while (!close) {
			size_t start = line_after(m, len, at), next, end;
			int rc;

			next = find_boundary(m, len, start, boundary, &close);
			end = next;
			/* The CRLF before a boundary belongs to the boundary. */
			if (end > start && m[end - 1] == '\n')
				end--;
			if (end > start && m[end - 1] == '\r')
				end--;
			if ((rc = walk_entity(w, m + start, end - start, depth + 1)) != 0)
				return rc;
			at = next;
		}
		return 0;
	}
	memset(&p, 0, sizeof p);
	memcpy(p.type, type, sizeof p.type);
	if (mime_header(m, hend, "Content-Transfer-Encoding", p.encoding, sizeof p.encoding) == 0)
		for (char *c = p.encoding; *c; c++)
			*c = (char) tolower((unsigned char) *c);
	{
		char cd[512];

		if (mime_header(m, hend, "Content-Disposition", cd, sizeof cd) == 0)
			mime_param(cd, "filename", p.filename, sizeof p.filename);
		if (!p.filename[0])
			mime_param(ct, "name", p.filename, sizeof p.filename);
	}
	p.body = m + hend;
	p.body_len = len - hend;
	return w->cb(&p, w->ud);
}

int mime_walk(const char *msg, size_t len, mime_cb cb, void *ud)
{
	walk w = { cb, ud, 0 };

	return walk_entity(&w, msg, len, 0);
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int hexval(char c)
{
	return isdigit((unsigned char) c) ? c - '0'
	       : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

int mime_decode(const mime_part *p, buf *out)
{
	const char *s = p->body;
	size_t n = p->body_len;

	if (!strcmp(p->encoding, "base64")) {
		unsigned acc = 0;
		int bits = 0;

		for (size_t i = 0; i < n && s[i] != '='; i++) {
			int v = b64_value(s[i]);

			if (v < 0)
				continue;
			acc = (acc << 6 | (unsigned) v) & 0xFFFFFF;
			if ((bits += 6) >= 8) {
				bits -= 8;
				if (buf_append_char(out, (char) (acc >> bits & 0xFF)) < 0)
					return -1;
			}
		}
		return 0;
	}
	if (!strcmp(p->encoding, "quoted-printable")) {
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '=' && i + 1 < n && (s[i + 1] == '\r' || s[i + 1] == '\n')) {
				i += s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n' ? 2 : 1;
				continue;
			}
			if (s[i] == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
				if (buf_append_char(out, (char) (hexval(s[i + 1]) << 4 | hexval(s[i + 2]))) < 0)
					return -1;
				i += 2;
				continue;
			}
			if (buf_append_char(out, s[i]) < 0)
				return -1;
		}
		return 0;
	}
	return buf_append(out, s, n);
}
