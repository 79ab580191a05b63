/*
 * queue_write.c - writing a queue file (producers: smtpd, popd-client, faxd, ...).
 *
 * Contract (queue.h): qw_create() makes tmp/STAMP (O_EXCL, 0600) and fixes the
 * queue ID; qw_envelope() then qw_content() (any number of times) fill one user-space
 * buffer that goes to the file with as few write(2)/writev(2) calls as possible: a
 * small message costs exactly one write at qw_finish(). Large content chunks bypass
 * the buffer (writev of buffer + chunk). The content record's length is only known
 * at the end: it is patched in the buffer, or with one pwrite() when the record head
 * already went out. qw_sync() is one fdatasync(2) and touches nothing but its own
 * writer, so callers may run it on threads. qw_publish() renames tmp/STAMP to
 * incoming/ID without ever overwriting. A writer that fails stays failed (every
 * later step returns -1 with the first errno); qw_free() removes an unpublished file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/queue_crash.h"
#include "mail/queue_rec.h"
#include "mail/queue_recycle.h"
#include "util/buf.h"
#include "util/msg.h"

#define QW_BUFSIZE	(64 * 1024)	/* flush threshold; small mail never reaches it */
#define QW_MAX_CONTENT	((uint64_t)UINT32_MAX)

enum qw_state { QW_OPEN, QW_ENVELOPE, QW_FINISHED, QW_SYNCED, QW_PUBLISHED, QW_DEAD };

struct qwriter {
	char id[QUEUE_ID_LEN + 1];
	char queue_dir[PATH_MAX];
	char tmp_path[PATH_MAX];
	char dst_path[PATH_MAX];
	int fd;
	enum qw_state state;
	int error;		/* first errno; 0 = healthy */
	unsigned char *buf;
	size_t len;
	size_t cap;
	off_t written;		/* bytes already in the file */
	off_t mlen_off;		/* file offset of the content record's length field */
	uint64_t content;	/* content bytes so far */
};

static int qw_fail(qwriter *w, int err)
{
	if (w->error == 0)
		w->error = err ? err : EIO;
	errno = w->error;
	return -1;
}

qwriter *qw_create(const char *queue_dir, char *err, size_t errlen)
{
	qwriter *w = xcalloc(1, sizeof(*w));
	char name[11];
	struct stat st;
	uint64_t stamp;

	w->fd = -1;
	for (int tries = 0; w->fd < 0; tries++) {
		stamp = queue_id_stamp(queue_dir);
		queue_id_stamp_name(name, stamp);
		if (queue_path(w->tmp_path, sizeof(w->tmp_path), queue_dir, Q_TMP, name) < 0)
			break;
		/* a recycled file when free/ has one: no inode to allocate */
		w->fd = queue_recycle_take(queue_dir, w->tmp_path);
		if (w->fd < 0)
			w->fd = open(w->tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (w->fd < 0 && (errno != EEXIST || tries > 100))
			break;
	}
	if (w->fd < 0) {
		snprintf(err, errlen, "create queue file %s: %s", w->tmp_path, strerror(errno));
		free(w);
		return NULL;
	}
	if (fstat(w->fd, &st) < 0) {
		snprintf(err, errlen, "fstat %s: %s", w->tmp_path, strerror(errno));
		unlink(w->tmp_path);
		close(w->fd);
		free(w);
		return NULL;
	}
	queue_id_format(w->id, stamp, st.st_ino);
	if (queue_path(w->dst_path, sizeof(w->dst_path), queue_dir, Q_INCOMING, w->id) < 0) {
		snprintf(err, errlen, "%s: path too long", queue_dir);
		unlink(w->tmp_path);
		close(w->fd);
		free(w);
		return NULL;
	}
	if (str_ncopy(w->queue_dir, sizeof(w->queue_dir), queue_dir, strlen(queue_dir)) < 0) {
		snprintf(err, errlen, "%s: path too long", queue_dir);
		unlink(w->tmp_path);
		close(w->fd);
		free(w);
		return NULL;
	}
	w->cap = QW_BUFSIZE;
	w->buf = xmalloc(w->cap);
	w->state = QW_OPEN;
	return w;
}

const char *qw_id(const qwriter *w)
{
	return w->id;
}

size_t qw_content_size(const qwriter *w)
{
	return (size_t)w->content;
}

/* Write the buffer, then (optionally) extra bytes, to the file; partial writes and
 * EINTR are retried. One writev(2) in the common case. */
static int qw_flush(qwriter *w, const void *extra, size_t extralen)
{
	struct iovec iov[2];

	iov[0].iov_base = w->buf;
	iov[0].iov_len = w->len;
	iov[1].iov_base = (void *)extra;
	iov[1].iov_len = extralen;
	while (iov[0].iov_len + iov[1].iov_len > 0) {
		struct iovec *v = iov[0].iov_len ? iov : iov + 1;
		int cnt = iov[0].iov_len ? 2 : 1;
		ssize_t got = writev(w->fd, v, cnt);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return qw_fail(w, errno);
		}
		if (got == 0)
			return qw_fail(w, EIO);
		w->written += got;
		for (int i = 0; i < 2 && got > 0; i++) {
			size_t take = (size_t)got < iov[i].iov_len ? (size_t)got : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			got -= (ssize_t)take;
		}
	}
	w->len = 0;
	return 0;
}

/* Append raw bytes to the buffer, flushing (or writing through) when it is full. */
static int qw_put(qwriter *w, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (w->len + n <= w->cap) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		return 0;
	}
	if (n >= w->cap / 2)
		return qw_flush(w, p, n);
	if (qw_flush(w, NULL, 0) < 0)
		return -1;
	memcpy(w->buf, p, n);
	w->len = n;
	return 0;
}

static int qw_rec(qwriter *w, int type, const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char hdr[QREC_HDR];
	size_t total;

	if (size_add(alen, blen, &total) < 0 || total > UINT32_MAX)
		return qw_fail(w, EFBIG);
	hdr[0] = (unsigned char)type;
	qrec_put32(hdr + 1, (uint32_t)total);
	if (qw_put(w, hdr, sizeof(hdr)) < 0 || qw_put(w, a, alen) < 0)
		return -1;
	return blen ? qw_put(w, b, blen) : 0;
}

static int qw_str(qwriter *w, int type, const char *s)
{
	return s ? qw_rec(w, type, s, strlen(s), NULL, 0) : 0;
}

static int qw_rcpt(qwriter *w, const qrcpt *r)
{
	unsigned char head[2] = { QRCPT_PENDING, (unsigned char)r->notify };
	const char *orcpt = r->orcpt ? r->orcpt : "";
	size_t alen = strlen(r->addr), olen = strlen(orcpt), total;
	unsigned char hdr[QREC_HDR];

	if (r->notify < 0 || r->notify > 15)
		return qw_fail(w, EINVAL);
	if (size_add(alen, olen, &total) < 0 || size_add(total, 3, &total) < 0
	    || total > UINT32_MAX)
		return qw_fail(w, EFBIG);
	hdr[0] = QR_RCPT;
	qrec_put32(hdr + 1, (uint32_t)total);
	if (qw_put(w, hdr, sizeof(hdr)) < 0 || qw_put(w, head, 2) < 0
	    || qw_put(w, r->addr, alen + 1) < 0)
		return -1;
	return qw_put(w, orcpt, olen);
}

int qw_envelope(qwriter *w, const qenvelope *env)
{
	unsigned char t[8], flags[2];
	uint64_t arr = (uint64_t)env->arrival_us;
	unsigned char mhdr[QREC_HDR] = { QR_CONTENT, 0, 0, 0, 0 };

	if (w->error)
		return qw_fail(w, w->error);
	if (w->state != QW_OPEN || env->sender == NULL || env->nrcpt == 0
	    || env->ret < 0 || env->ret > DSN_RET_HDRS)
		return qw_fail(w, EINVAL);
	for (int i = 7; i >= 0; i--, arr >>= 8)
		t[i] = (unsigned char)arr;
	flags[0] = (unsigned char)env->ret;
	flags[1] = env->body_8bit ? 1 : 0;
	if (qw_rec(w, QR_VERSION, QREC_MAGIC, QREC_MAGIC_LEN, NULL, 0) < 0
	    || qw_rec(w, QR_TIME, t, 8, NULL, 0) < 0
	    || qw_str(w, QR_SENDER, env->sender) < 0
	    || qw_str(w, QR_ORIGIN, env->origin) < 0
	    || qw_str(w, QR_CLIENT_NAME, env->client_name) < 0
	    || qw_str(w, QR_CLIENT_ADDR, env->client_addr) < 0
	    || qw_str(w, QR_HELO, env->helo) < 0
	    || qw_str(w, QR_PROTOCOL, env->protocol) < 0
	    || qw_str(w, QR_AUTH_USER, env->auth_user) < 0
	    || qw_str(w, QR_ENVID, env->envid) < 0
	    || qw_rec(w, QR_FLAGS, flags, 2, NULL, 0) < 0)
		return -1;
	for (size_t i = 0; i < env->nattr; i++) {
		const qattr *a = env->attr + i;
		if (a->name == NULL || a->name[0] == 0 || a->value == NULL)
			return qw_fail(w, EINVAL);
		if (qw_rec(w, QR_ATTR, a->name, strlen(a->name) + 1, a->value,
			   strlen(a->value)) < 0)
			return -1;
	}
	for (size_t i = 0; i < env->nrcpt; i++) {
		if (env->rcpt[i].addr == NULL)
			return qw_fail(w, EINVAL);
		if (qw_rcpt(w, env->rcpt + i) < 0)
			return -1;
	}
	/* The content record's length is patched in qw_finish(). */
	w->mlen_off = w->written + (off_t)w->len + 1;
	if (qw_put(w, mhdr, sizeof(mhdr)) < 0)
		return -1;
	w->state = QW_ENVELOPE;
	return 0;
}

int qw_content(qwriter *w, const void *data, size_t len)
{
	if (w->error)
		return qw_fail(w, w->error);
	if (w->state != QW_ENVELOPE)
		return qw_fail(w, EINVAL);
	if (len > QW_MAX_CONTENT - w->content)
		return qw_fail(w, EFBIG);
	if (qw_put(w, data, len) < 0)
		return -1;
	w->content += len;
	return 0;
}

int qw_finish(qwriter *w)
{
	static const unsigned char end[QREC_HDR] = { QR_END, 0, 0, 0, 0 };
	unsigned char len[4];

	if (w->error)
		return qw_fail(w, w->error);
	if (w->state != QW_ENVELOPE)
		return qw_fail(w, EINVAL);
	qrec_put32(len, (uint32_t)w->content);
	if (w->mlen_off >= w->written) {
		memcpy(w->buf + (w->mlen_off - w->written), len, 4);
	} else {
		ssize_t n;
		while ((n = pwrite(w->fd, len, 4, w->mlen_off)) < 0 && errno == EINTR)
			;
		if (n != 4)
			return qw_fail(w, n < 0 ? errno : EIO);
	}
	queue_crashpoint("qw_before_write");
	if (w->len + sizeof(end) <= w->cap) {
		memcpy(w->buf + w->len, end, sizeof(end));
		w->len += sizeof(end);
		if (qw_flush(w, NULL, 0) < 0)
			return -1;
	} else if (qw_flush(w, end, sizeof(end)) < 0) {
		return -1;
	}
	w->state = QW_FINISHED;
	return 0;
}

int qw_sync(qwriter *w)
{
	if (w->error)
		return qw_fail(w, w->error);
	if (w->state != QW_FINISHED)
		return qw_fail(w, EINVAL);
	/* fdatasync also writes the size and block map: all that a new file needs. */
	queue_crashpoint("qw_before_sync");
	if (fdatasync(w->fd) < 0)
		return qw_fail(w, errno);
	queue_crashpoint("qw_after_sync");
	w->state = QW_SYNCED;
	return 0;
}

int qw_publish(qwriter *w)
{
	if (w->error)
		return qw_fail(w, w->error);
	if (w->state != QW_SYNCED)
		return qw_fail(w, EINVAL);
	if (queue_rename_noreplace(w->tmp_path, w->dst_path) < 0)
		return qw_fail(w, errno);
	w->state = QW_PUBLISHED;
	queue_crashpoint("qw_after_rename");
	close(w->fd);
	w->fd = -1;
	return 0;
}

int qw_commit(qwriter *w, char *err, size_t errlen)
{
	const char *step = "write";
	char queue_dir[PATH_MAX];
	const char *slash;

	if (qw_finish(w) < 0)
		goto fail;
	step = "fsync";
	if (qw_sync(w) < 0)
		goto fail;
	step = "rename";
	if (qw_publish(w) < 0)
		goto fail;
	/* dst_path is queue_dir/incoming/ID: its directory part names the folder. */
	slash = strrchr(w->dst_path, '/');
	if (str_ncopy(queue_dir, sizeof(queue_dir), w->dst_path,
		      (size_t)(slash - w->dst_path)) < 0) {
		errno = ENAMETOOLONG;
		goto dirfail;
	}
	if (queue_sync_dir(queue_dir, ".") < 0)
		goto dirfail;
	return 0;
dirfail:
	snprintf(err, errlen, "%s: queue file fsync %s/: %s", w->id, Q_INCOMING, strerror(errno));
	return -1;
fail:
	snprintf(err, errlen, "%s: queue file %s error: %s", w->id, step, strerror(errno));
	return -1;
}

void qw_abort(qwriter *w)
{
	if (w->state != QW_PUBLISHED && w->state != QW_DEAD &&
	    queue_recycle_put(w->queue_dir, w->tmp_path) < 0)
		unlink(w->tmp_path);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->state != QW_PUBLISHED)
		w->state = QW_DEAD;
}

void qw_free(qwriter *w)
{
	if (w == NULL)
		return;
	qw_abort(w);
	free(w->buf);
	free(w);
}

int queue_publish_orphan(const char *queue_dir, const char *id, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dst[PATH_MAX], name[QUEUE_ID_LEN + 1];
	qfile *qf;

	if (!queue_id_valid(id)) {
		snprintf(err, errlen, "bad queue ID");
		return -1;
	}
	/* tmp/ names are the ID's time stamp part (see qw_create) */
	memcpy(name, id, 10);
	name[10] = 0;
	if (queue_path(tmp, sizeof(tmp), queue_dir, Q_TMP, name) < 0 ||
	    queue_path(dst, sizeof(dst), queue_dir, Q_INCOMING, id) < 0) {
		snprintf(err, errlen, "%s: path too long", queue_dir);
		return -1;
	}
	if (access(tmp, F_OK) != 0)
		return 0;
	if (!(qf = qf_open(tmp, O_RDONLY, err, errlen)))
		return -1;
	if (fdatasync(qf->fd) < 0) {
		snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		qf_close(qf);
		return -1;
	}
	qf_close(qf);
	if (queue_rename_noreplace(tmp, dst) < 0) {
		snprintf(err, errlen, "rename %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (queue_sync_dir(queue_dir, Q_INCOMING) < 0) {
		snprintf(err, errlen, "fsync %s/%s: %s", queue_dir, Q_INCOMING, strerror(errno));
		return -1;
	}
	return 1;
}
