/*
 * convert.c - client-side content conversion for CONNEG (see convert.h).
 *
 * Only the forms fax devices send are handled: an image/tiff part in base64, either
 * the whole message or a part of a top-level multipart. Anything else is "cannot
 * convert", which the caller turns into 5.6.3 under CONPERM or sends as it is.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mail/dsn.h"
#include "mail/featureset.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"
#include "util/buf.h"
#include "util/msg.h"
#include "convert.h"

/* End of the header block starting at off: offset of the body (after the empty line). */
static size_t conv_body_start(const char *m, size_t off, size_t end)
{
	for (size_t i = off; i + 3 < end + 1 && i + 3 <= end; i++)
		if (m[i] == '\r' && m[i + 1] == '\n' && m[i + 2] == '\r' && i + 3 < end && m[i + 3] == '\n')
			return i + 4;
	if (end - off >= 2 && m[off] == '\r' && m[off + 1] == '\n')
		return off + 2;	/* no headers at all */
	return end;
}

/* Unfolded value of header `name` in [off, body), malloc'd, or NULL. */
static char *conv_header(const char *m, size_t off, size_t body, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = off; i < body; ) {
		size_t eol = i;
		while (eol + 1 < body && !(m[eol] == '\r' && m[eol + 1] == '\n'))
			eol++;
		if (eol - i > nl && strncasecmp(m + i, name, nl) == 0 && m[i + nl] == ':') {
			buf v;
			buf_init(&v, 64 * 1024);
			size_t p = i + nl + 1;
			for (;;) {
				buf_append(&v, m + p, eol - p);
				/* continuation lines start with white space */
				if (eol + 2 < body && (m[eol + 2] == ' ' || m[eol + 2] == '\t')) {
					p = eol + 2;
					eol = p;
					while (eol + 1 < body && !(m[eol] == '\r' && m[eol + 1] == '\n'))
						eol++;
					continue;
				}
				break;
			}
			/* trim */
			size_t a = 0, b = v.len;
			while (a < b && isspace((unsigned char)v.data[a]))
				a++;
			while (b > a && isspace((unsigned char)v.data[b - 1]))
				b--;
			char *r = xstrndup(v.data + a, b - a);
			buf_free(&v);
			return r;
		}
		i = eol + 2;
	}
	return NULL;
}

static int conv_is_tiff_b64(const char *m, size_t hdr, size_t body)
{
	char *ct = conv_header(m, hdr, body, "Content-Type");
	char *cte = conv_header(m, hdr, body, "Content-Transfer-Encoding");
	int ok = ct && strncasecmp(ct, "image/tiff", 10) == 0 && cte && strcasecmp(cte, "base64") == 0;

	free(ct);
	free(cte);
	return ok;
}

/* boundary="x" or boundary=x from a Content-Type value. */
static char *conv_boundary(const char *ct)
{
	const char *p = strcasestr(ct, "boundary=");
	if (p == NULL)
		return NULL;
	p += 9;
	if (*p == '"') {
		const char *q = strchr(p + 1, '"');
		return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : NULL;
	}
	size_t n = strcspn(p, "; \t");
	return n ? xstrndup(p, n) : NULL;
}

static void conv_take_part(smtp_conv *c, size_t hdr, size_t body, size_t end, int top)
{
	char *cv = conv_header(c->msg, hdr, body, "Content-Convert");

	if (cv == NULL)
		return;
	if (strcasecmp(cv, "NONE") == 0 || !conv_is_tiff_b64(c->msg, hdr, body)) {
		free(cv);
		return;
	}
	c->permitted = 1;
	c->convert = cv;
	c->features = conv_header(c->msg, hdr, body, "Content-Features");
	c->part_hdr = hdr;
	c->part_body = body;
	c->part_end = end;
	c->top = top;
}

int smtp_conv_load(qfile *qf, smtp_conv *c)
{
	char *msg;
	size_t len;

	memset(c, 0, sizeof *c);
	if (qf->content_len > SMTP_CONV_MAX)
		return 0;
	len = (size_t)qf->content_len;
	msg = xmalloc(len + 1);
	for (size_t off = 0; off < len; ) {
		ssize_t n = qf_read_content(qf, (off_t)off, msg + off, len - off);
		if (n <= 0) {
			free(msg);
			return -1;
		}
		off += (size_t)n;
	}
	msg[len] = 0;
	smtp_conv_parse(c, msg, len);
	return 0;
}

void smtp_conv_parse(smtp_conv *c, char *msg, size_t len)
{
	memset(c, 0, sizeof *c);
	c->msg = msg;
	c->len = len;
	size_t body = conv_body_start(c->msg, 0, c->len);
	conv_take_part(c, 0, body, c->len, 1);
	if (c->permitted)
		return;
	char *ct = conv_header(c->msg, 0, body, "Content-Type");
	char *bd = ct && strncasecmp(ct, "multipart/", 10) == 0 ? conv_boundary(ct) : NULL;
	free(ct);
	if (bd == NULL)
		return;
	/* parts: "\r\n--bd" delimiters (the first may start the body) */
	buf delim;
	buf_init(&delim, 0);
	buf_printf(&delim, "\r\n--%s", bd);
	size_t pos = body >= 2 ? body - 2 : body;	/* so a delimiter right at the body start matches */
	char *p = memmem(c->msg + pos, c->len - pos, delim.data, delim.len);
	while (p && !c->permitted) {
		size_t start = (size_t)(p - c->msg) + delim.len;
		if (start + 2 <= c->len && c->msg[start] == '-' && c->msg[start + 1] == '-')
			break;		/* closing delimiter */
		while (start < c->len && c->msg[start] != '\n')
			start++;	/* rest of the delimiter line */
		start++;
		if (start >= c->len)
			break;
		char *q = memmem(c->msg + start, c->len - start, delim.data, delim.len);
		size_t end = q ? (size_t)(q - c->msg) : c->len;
		conv_take_part(c, start, conv_body_start(c->msg, start, end), end, 0);
		p = q;
	}
	buf_free(&delim);
	free(bd);
}

void smtp_conv_free(smtp_conv *c)
{
	free(c->msg);
	free(c->convert);
	free(c->features);
	memset(c, 0, sizeof *c);
}

int smtp_conv_fits(const smtp_conv *c, const char *caps)
{
	char err[128];
	fs_expr *cap, *doc;
	int fits = 1;

	if (!c->features || !caps)
		return 1;
	if ((cap = fs_parse(caps, strlen(caps), err, sizeof err)) == NULL)
		return 1;	/* unreadable capabilities: nothing known */
	if ((doc = fs_parse(c->features, strlen(c->features), err, sizeof err)) != NULL) {
		fits = fs_match(cap, doc);
		fs_free(doc);
	}
	fs_free(cap);
	return fits;
}

/* --- base64 -------------------------------------------------------------------- */

static int b64_val(int ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+') return 62;
	if (ch == '/') return 63;
	return -1;
}

static int b64_decode(const char *in, size_t n, int fd)
{
	unsigned char out[4096];
	size_t o = 0;
	unsigned v = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int d = b64_val((unsigned char)in[i]);
		if (d < 0)
			continue;	/* CRLF, padding */
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
			if (o == sizeof out) {
				if (write(fd, out, o) != (ssize_t)o)
					return -1;
				o = 0;
			}
		}
	}
	return o && write(fd, out, o) != (ssize_t)o ? -1 : 0;
}

static int b64_encode_fd(int fd, buf *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[57 * 64];
	ssize_t n;
	off_t off = 0;

	while ((n = pread(fd, in, sizeof in, off)) > 0) {
		off += n;
		for (ssize_t i = 0; i < n; i += 57) {	/* 76-character lines */
			ssize_t end = i + 57 < n ? i + 57 : n;
			for (ssize_t k = i; k < end; k += 3) {
				unsigned v = (unsigned)in[k] << 16;
				if (k + 1 < end) v |= (unsigned)in[k + 1] << 8;
				if (k + 2 < end) v |= in[k + 2];
				char q[4] = { tab[(v >> 18) & 63], tab[(v >> 12) & 63],
					      k + 1 < end ? tab[(v >> 6) & 63] : '=',
					      k + 2 < end ? tab[v & 63] : '=' };
				if (buf_append(out, q, 4) < 0)
					return -1;
			}
			buf_append(out, "\r\n", 2);
		}
	}
	return n < 0 ? -1 : 0;
}

/* --- codecd ---------------------------------------------------------------------- */

static int conv_codecd(const char *queue_dir, int in, int out, const char *target, int timeout_s,
		       char *status, size_t stlen, char *why, size_t whylen, buf *features)
{
	char path[4096], err[256];
	ipc_msg *req, *rep;
	int sock, rc;
	const char *s;
	int64_t xres = 0, yres = 0;

	snprintf(path, sizeof path, "%s/private/codecd", queue_dir);
	if ((sock = ipc_connect(path, 5000)) < 0) {
		snprintf(status, stlen, "4.3.0");
		snprintf(why, whylen, "conversion service (codecd) not available");
		return -1;
	}
	req = ipc_new(IPC_CONVERT);
	ipc_put_str(req, "target", target);
	ipc_put_int(req, "in_count", 1);
	ipc_put_str(req, "in_type.0", "image/tiff");
	ipc_put_fd(req, in);
	ipc_put_fd(req, out);
	rc = ipc_send(sock, req, 10000);
	ipc_free(req);
	rep = rc < 0 ? NULL : ipc_recv(sock, 65536, (timeout_s + 30) * 1000, err, sizeof err);
	close(sock);
	if (rep == NULL) {
		snprintf(status, stlen, "4.3.0");
		snprintf(why, whylen, "no answer from the conversion service");
		return -1;
	}
	s = ipc_get_str(rep, "status");
	snprintf(status, stlen, "%s", s ? s : "4.3.0");
	s = ipc_get_str(rep, "reason");
	snprintf(why, whylen, "%s", s ? s : "conversion failed");
	if (status[0] != '2') {
		ipc_free(rep);
		return -1;
	}
	const char *prof = ipc_get_str(rep, "profile"), *coding = ipc_get_str(rep, "coding");
	ipc_get_int(rep, "xres", &xres);
	ipc_get_int(rep, "yres", &yres);
	buf_printf(features, "(& (image-file-structure=%s) (MRC-mode=0) (color=Binary)",
		   prof && strcmp(prof, "S") == 0 ? "TIFF-minimal" : "TIFF-limited");
	if (xres > 0 && yres > 0)
		buf_printf(features, " (dpi=%lld) (dpi-xyratio=%lld/%lld)", (long long)xres,
			   (long long)xres, (long long)yres);
	if (coding)
		buf_printf(features, " (image-coding=%s)", coding);
	buf_append_str(features, ")");
	ipc_free(rep);
	return 0;
}

/* The target: Content-Convert ANY -> the capabilities; a list -> its intersection
 * with them (empty: nothing permitted fits, 5.6.3). */
static int conv_target(const smtp_conv *c, const char *caps, buf *out, char *why, size_t whylen)
{
	char err[128];
	fs_expr *p, *cap, *both;
	int empty = 0;

	if (strcasecmp(c->convert, "ANY") == 0)
		return buf_append_str(out, caps);
	if ((p = fs_parse(c->convert, strlen(c->convert), err, sizeof err)) == NULL
	    || (cap = fs_parse(caps, strlen(caps), err, sizeof err)) == NULL) {
		if (p)
			fs_free(p);
		snprintf(why, whylen, "unreadable Content-Convert or capabilities: %s", err);
		return -1;
	}
	both = fs_intersect(p, cap, &empty);
	fs_free(p);
	fs_free(cap);
	if (both == NULL || empty) {
		if (both)
			fs_free(both);
		snprintf(why, whylen, "no permitted form (Content-Convert) is among the recipient's capabilities");
		return -1;
	}
	int rc = fs_format(both, out);
	fs_free(both);
	return rc;
}

static int conv_write(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The converted part's header: the old one without Content-Features and
 * Content-Transfer-Encoding, then ours. */
static void conv_part_header(const smtp_conv *c, const char *features, const char *myhost, buf *h)
{
	const char *m = c->msg;
	size_t end = c->part_body >= 2 ? c->part_body - 2 : c->part_body;	/* before the empty line */
	char date[64];

	for (size_t i = c->part_hdr; i < end; ) {
		size_t eol = i;
		while (eol + 1 < end + 2 && !(m[eol] == '\r' && m[eol + 1] == '\n'))
			eol++;
		/* the whole field: this line and its continuations */
		size_t fend = eol;
		while (fend + 2 < end && (m[fend + 2] == ' ' || m[fend + 2] == '\t')) {
			fend += 2;
			while (fend + 1 < end + 2 && !(m[fend] == '\r' && m[fend + 1] == '\n'))
				fend++;
		}
		int drop = strncasecmp(m + i, "Content-Features:", 17) == 0
			|| strncasecmp(m + i, "Content-Transfer-Encoding:", 26) == 0
			|| strncasecmp(m + i, "Content-Previous:", 17) == 0;
		if (!drop) {
			buf_append(h, m + i, fend - i);
			buf_append_str(h, "\r\n");
		}
		i = fend + 2;
	}
	dsn_date(time(NULL), date, sizeof date);
	buf_append_str(h, "Content-Transfer-Encoding: base64\r\n");
	buf_printf(h, "Content-Features: %s\r\n", features);
	buf_printf(h, "Content-Previous: Date %s;\r\n By %s;\r\n %s\r\n\r\n", date, myhost,
		   c->features ? c->features : "(& )");
}

int smtp_conv_make(const smtp_conv *c, const char *caps, const char *queue_dir,
		   const char *myhost, int timeout_s, off_t *len,
		   char *status, size_t stlen, char *why, size_t whylen)
{
	buf target, features, part;
	int in = -1, out = -1, msgfd = -1;

	buf_init(&target, 0);
	buf_init(&features, 0);
	buf_init(&part, 0);
	snprintf(status, stlen, "5.6.3");
	if (!c->permitted || conv_target(c, caps, &target, why, whylen) < 0) {
		if (!c->permitted)
			snprintf(why, whylen, "conversion not permitted (no Content-Convert)");
		goto fail;
	}
	snprintf(status, stlen, "4.3.0");
	if ((in = memfd_create("conv-in", MFD_CLOEXEC)) < 0 || (out = memfd_create("conv-out", MFD_CLOEXEC)) < 0
	    || (msgfd = memfd_create("conv-msg", MFD_CLOEXEC)) < 0) {
		snprintf(why, whylen, "memfd: %s", strerror(errno));
		goto fail;
	}
	if (b64_decode(c->msg + c->part_body, c->part_end - c->part_body, in) < 0) {
		snprintf(why, whylen, "cannot decode the image part");
		goto fail;
	}
	lseek(in, 0, SEEK_SET);		/* codecd reads from the descriptor's offset */
	if (conv_codecd(queue_dir, in, out, buf_str(&target), timeout_s, status, stlen, why, whylen,
			&features) < 0)
		goto fail;
	conv_part_header(c, buf_str(&features), myhost, &part);
	if (b64_encode_fd(out, &part) < 0) {
		snprintf(status, stlen, "4.3.0");
		snprintf(why, whylen, "cannot read the converted image");
		goto fail;
	}
	/* the message: everything before the part, the new part, everything after */
	if (conv_write(msgfd, c->msg, c->part_hdr) < 0 || conv_write(msgfd, part.data, part.len) < 0
	    || conv_write(msgfd, c->msg + c->part_end, c->len - c->part_end) < 0) {
		snprintf(status, stlen, "4.3.0");
		snprintf(why, whylen, "cannot write the converted message");
		goto fail;
	}
	*len = lseek(msgfd, 0, SEEK_END);
	close(in);
	close(out);
	buf_free(&target);
	buf_free(&features);
	buf_free(&part);
	return msgfd;
fail:
	if (in >= 0) close(in);
	if (out >= 0) close(out);
	if (msgfd >= 0) close(msgfd);
	buf_free(&target);
	buf_free(&features);
	buf_free(&part);
	return -1;
}
