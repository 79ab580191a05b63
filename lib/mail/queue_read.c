/*
 * queue_read.c - opening and validating a queue file (qmgr, agents, faxpost queue).
 *
 * Contract (queue.h): qf_open() trusts nothing in the file. Every record length is
 * checked against the file size before it is used; the envelope must start with the
 * version record, carry exactly one time and sender and at least one recipient, have
 * no unknown record types, no duplicates of single records, no NUL inside strings;
 * the content record must be followed by the end record as the very last bytes of
 * the file. A file that fails is refused with a reason ("partial file: ...",
 * "record at offset N: ..."); the caller moves it to corrupt/.
 * Cost: open + fstat + one pread of the head (the whole file when it is small); a
 * large file costs one more small pread for its end record. qf_mark_done() is a
 * one-byte pwrite + fdatasync.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/queue_rec.h"
#include "mail/queue_scan.h"
#include "util/buf.h"
#include "util/msg.h"

#define QF_HEAD		8192			/* first read; most files fit entirely */
#define QF_ENV_MAX	(64 * 1024 * 1024)	/* larger envelopes are refused */

typedef struct qf_reader {
	int fd;
	off_t size;
	unsigned char *buf;	/* file bytes [0, have) */
	size_t have;
	size_t cap;
	char *err;
	size_t errlen;
} qf_reader;

static int rd_err(qf_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rd_err(qf_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int rd_pread(qf_reader *r, void *dst, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(r->fd, (char *)dst + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rd_err(r, "read error at offset %lld: %s",
				      (long long)(off + (off_t)got), strerror(errno));
		if (n == 0)
			return rd_err(r, "file shrank while reading (offset %lld)",
				      (long long)(off + (off_t)got));
		got += (size_t)n;
	}
	return 0;
}

/* Make bytes [0, end) available in r->buf; end <= r->size is the caller's check. */
static int rd_ensure(qf_reader *r, off_t end)
{
	size_t want = (size_t)end;

	if (want <= r->have)
		return 0;
	if (want > QF_ENV_MAX)
		return rd_err(r, "envelope larger than %d bytes", QF_ENV_MAX);
	if (want > r->cap) {
		size_t cap = r->cap * 2 > want ? r->cap * 2 : want;
		if (cap > QF_ENV_MAX)	/* read ahead, but not content we do not need */
			cap = want > QF_ENV_MAX ? want : QF_ENV_MAX;
		if ((off_t)cap > r->size)
			cap = (size_t)r->size;
		r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	/* read as much as fits: the next records are probably right behind */
	want = r->cap;
	if (rd_pread(r, r->buf + r->have, want - r->have, (off_t)r->have) < 0)
		return -1;
	r->have = want;
	return 0;
}

static int has_nul(const unsigned char *p, uint32_t len)
{
	return memchr(p, 0, len) != NULL;
}

static int rd_string(qf_reader *r, char **dst, const unsigned char *p, uint32_t len,
		     off_t off, int type)
{
	if (*dst != NULL)
		return rd_err(r, "record at offset %lld: duplicate '%c' record", (long long)off, type);
	if (has_nul(p, len))
		return rd_err(r, "record at offset %lld: NUL inside '%c' record", (long long)off, type);
	*dst = xstrndup((const char *)p, len);
	return 0;
}

static int rd_rcpt(qf_reader *r, qenvelope *env, const unsigned char *p, uint32_t len, off_t off)
{
	const unsigned char *nul;
	size_t alen;
	char *orcpt;

	if (len < 3)
		return rd_err(r, "record at offset %lld: recipient record too short", (long long)off);
	if ((p[0] != QRCPT_PENDING && p[0] != QRCPT_DONE) || p[1] > 15)
		return rd_err(r, "record at offset %lld: bad recipient status", (long long)off);
	nul = memchr(p + 2, 0, len - 2);
	if (nul == NULL)
		return rd_err(r, "record at offset %lld: unterminated recipient", (long long)off);
	alen = (size_t)(nul - (p + 2));
	if (has_nul(nul + 1, (uint32_t)(len - 3 - alen)))
		return rd_err(r, "record at offset %lld: NUL inside ORCPT", (long long)off);
	orcpt = len - 3 - alen ? xstrndup((const char *)nul + 1, len - 3 - alen) : NULL;
	qenv_add_rcpt(env, (const char *)p + 2, orcpt, p[1]);
	free(orcpt);
	env->rcpt[env->nrcpt - 1].done = p[0] == QRCPT_DONE;
	env->rcpt[env->nrcpt - 1].status_off = off + QREC_HDR;
	return 0;
}

static int rd_attr(qf_reader *r, qenvelope *env, const unsigned char *p, uint32_t len, off_t off)
{
	const unsigned char *nul = memchr(p, 0, len);
	char *value;
	size_t nlen;

	if (nul == NULL || nul == p)
		return rd_err(r, "record at offset %lld: bad attribute", (long long)off);
	nlen = (size_t)(nul - p);
	if (has_nul(nul + 1, (uint32_t)(len - nlen - 1)))
		return rd_err(r, "record at offset %lld: NUL inside attribute value", (long long)off);
	value = xstrndup((const char *)nul + 1, len - nlen - 1);
	qenv_add_attr(env, (const char *)p, value);
	free(value);
	return 0;
}

/* One envelope record (not V, M or E). */
static int rd_record(qf_reader *r, qenvelope *env, int type, const unsigned char *p,
		     uint32_t len, off_t off, int *have_time)
{
	switch (type) {
	case QR_TIME:
		if (len != 8 || *have_time)
			return rd_err(r, "record at offset %lld: bad time record", (long long)off);
		*have_time = 1;
		env->arrival_us = 0;
		for (int i = 0; i < 8; i++)
			env->arrival_us = (int64_t)((uint64_t)env->arrival_us << 8 | p[i]);
		return 0;
	case QR_SENDER:
		return rd_string(r, &env->sender, p, len, off, type);
	case QR_ORIGIN:
		return rd_string(r, &env->origin, p, len, off, type);
	case QR_CLIENT_NAME:
		return rd_string(r, &env->client_name, p, len, off, type);
	case QR_CLIENT_ADDR:
		return rd_string(r, &env->client_addr, p, len, off, type);
	case QR_HELO:
		return rd_string(r, &env->helo, p, len, off, type);
	case QR_PROTOCOL:
		return rd_string(r, &env->protocol, p, len, off, type);
	case QR_AUTH_USER:
		return rd_string(r, &env->auth_user, p, len, off, type);
	case QR_ENVID:
		return rd_string(r, &env->envid, p, len, off, type);
	case QR_FLAGS:
		if (len != 2 || p[0] > DSN_RET_HDRS || p[1] > 1)
			return rd_err(r, "record at offset %lld: bad flags record", (long long)off);
		env->ret = p[0];
		env->body_8bit = p[1];
		return 0;
	case QR_ATTR:
		return rd_attr(r, env, p, len, off);
	case QR_RCPT:
		return rd_rcpt(r, env, p, len, off);
	default:
		return rd_err(r, "record at offset %lld: unknown record type 0x%02x",
			      (long long)off, (unsigned)type);
	}
}

/* The end record: exactly the last QREC_HDR bytes of the file. */
static int rd_end(qf_reader *r, off_t off)
{
	unsigned char tmp[QREC_HDR];
	const unsigned char *e;

	if (r->size - off < QREC_HDR)
		return rd_err(r, "partial file: no end record after %lld content bytes",
			      (long long)(off));
	if ((size_t)off + QREC_HDR <= r->have) {
		e = r->buf + off;
	} else {
		if (rd_pread(r, tmp, sizeof(tmp), off) < 0)
			return -1;
		e = tmp;
	}
	if (e[0] != QR_END || qrec_get32(e + 1) != 0)
		return rd_err(r, "partial file: no end record at offset %lld", (long long)off);
	if (r->size - off != QREC_HDR)
		return rd_err(r, "%lld bytes of trailing data after the end record",
			      (long long)(r->size - off - QREC_HDR));
	return 0;
}

/* Walk the envelope up to the content record; then check the end record. */
static int rd_parse(qf_reader *r, qfile *qf)
{
	qenvelope *env = &qf->env;
	off_t off = 0;
	int have_time = 0;

	for (;;) {
		unsigned char *h;
		uint32_t len;
		int type;

		if (r->size - off < QREC_HDR)
			return rd_err(r, "partial file: no end record (record header at offset %lld"
				      " cut off)", (long long)off);
		if (rd_ensure(r, off + QREC_HDR) < 0)
			return -1;
		h = r->buf + off;
		type = h[0];
		len = qrec_get32(h + 1);
		if ((off_t)len > r->size - off - QREC_HDR)
			return rd_err(r, "record at offset %lld: length %u runs past the end of the"
				      " file (size %lld)", (long long)off, len, (long long)r->size);
		if (off == 0 && (type != QR_VERSION || len != QREC_MAGIC_LEN))
			return rd_err(r, "not a faxpost queue file (no version record)");
		if (type == QR_CONTENT) {
			qf->content_off = off + QREC_HDR;
			qf->content_len = len;
			off = qf->content_off + len;
			break;
		}
		if (type == QR_END)
			return rd_err(r, "record at offset %lld: end record before content",
				      (long long)off);
		if (rd_ensure(r, off + QREC_HDR + len) < 0)
			return -1;
		h = r->buf + off;
		if (off == 0) {
			if (memcmp(h + QREC_HDR, QREC_MAGIC, QREC_MAGIC_LEN) != 0)
				return rd_err(r, "unknown queue file version");
		} else if (type == QR_VERSION) {
			return rd_err(r, "record at offset %lld: second version record",
				      (long long)off);
		} else if (rd_record(r, env, type, h + QREC_HDR, len, off, &have_time) < 0) {
			return -1;
		}
		off += QREC_HDR + (off_t)len;
	}
	if (!have_time || env->sender == NULL)
		return rd_err(r, "envelope without %s record", have_time ? "sender" : "time");
	if (env->nrcpt == 0)
		return rd_err(r, "envelope without recipients");
	return rd_end(r, off);
}

qfile *qf_openat(int dirfd, const char *name, int mode, struct stat *st,
		 char *err, size_t errlen)
{
	qf_reader r = { .fd = -1, .err = err, .errlen = errlen };
	struct stat sb;
	qfile *qf;
	const char *base;
	int ok;

	if (mode != O_RDONLY && mode != O_RDWR) {
		snprintf(err, errlen, "%s: bad open mode", name);
		errno = EINVAL;
		return NULL;
	}
	if ((r.fd = openat(dirfd, name, mode | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		int bad = errno;
		snprintf(err, errlen, "open %s: %s", name, strerror(bad));
		errno = bad;
		return NULL;
	}
	if (st == NULL)
		st = &sb;
	if (fstat(r.fd, st) < 0 || !S_ISREG(st->st_mode)) {
		int bad = errno;
		memset(&sb, 0, sizeof(sb));
		if (fstat(r.fd, &sb) < 0 || S_ISREG(sb.st_mode))
			snprintf(err, errlen, "fstat %s: %s", name, strerror(bad));
		else
			snprintf(err, errlen, "%s: not a regular file", name);
		close(r.fd);
		errno = EINVAL;
		return NULL;
	}
	qf = xcalloc(1, sizeof(*qf));
	qf->fd = r.fd;
	qf->file_size = r.size = st->st_size;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (queue_id_valid(base))
		memcpy(qf->id, base, QUEUE_ID_LEN + 1);
	/* One read of the head; for most files that is the whole file. */
	r.cap = r.size < QF_HEAD ? (size_t)r.size : QF_HEAD;
	r.buf = xmalloc(r.cap ? r.cap : 1);
	if (r.size == 0)
		ok = rd_err(&r, "empty file");
	else if ((ok = rd_pread(&r, r.buf, r.cap, 0)) == 0) {
		r.have = r.cap;
		ok = rd_parse(&r, qf);
	}
	if (ok < 0) {
		free(r.buf);
		qf_close(qf);
		errno = EINVAL;
		return NULL;
	}
	free(r.buf);
	return qf;
}

qfile *qf_open(const char *path, int mode, char *err, size_t errlen)
{
	return qf_openat(AT_FDCWD, path, mode, NULL, err, errlen);
}

int qf_mark_done(qfile *qf, size_t rcpt_index)
{
	static const unsigned char done = QRCPT_DONE;
	qrcpt *r;
	ssize_t n;

	if (rcpt_index >= qf->env.nrcpt) {
		errno = EINVAL;
		return -1;
	}
	r = qf->env.rcpt + rcpt_index;
	while ((n = pwrite(qf->fd, &done, 1, r->status_off)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		if (n == 0)
			errno = EIO;
		return -1;
	}
	if (fdatasync(qf->fd) < 0)
		return -1;
	r->done = 1;
	return 0;
}

size_t qf_pending(const qfile *qf)
{
	size_t n = 0;

	for (size_t i = 0; i < qf->env.nrcpt; i++)
		n += !qf->env.rcpt[i].done;
	return n;
}

ssize_t qf_read_content(qfile *qf, off_t off, void *dst, size_t len)
{
	ssize_t n;

	if (off < 0 || off > qf->content_len) {
		errno = EINVAL;
		return -1;
	}
	if ((off_t)len > qf->content_len - off)
		len = (size_t)(qf->content_len - off);
	if (len == 0)
		return 0;
	while ((n = pread(qf->fd, dst, len, qf->content_off + off)) < 0 && errno == EINTR)
		;
	return n;
}

void qf_close(qfile *qf)
{
	if (qf == NULL)
		return;
	if (qf->fd >= 0)
		close(qf->fd);
	qenv_free(&qf->env);
	free(qf);
}
