/*
 * ipc.c - typed attribute messages over UNIX stream sockets, with fd passing.
 *
 * Wire form (ipc.h): 4-byte big-endian total length of the whole frame, this length
 * field included (so total >= 8); 4-byte big-endian message type; then attributes:
 * kind 'I' | 'S' | 'B', 1-byte name length (1..255), name (printable ASCII, no
 * space), 4-byte big-endian value length, value ('I': exactly 8 bytes, big-endian
 * two's complement; 'S': no NUL; 'B': anything). The first attribute is always the
 * reserved "_nfds" (kind 'I'): the number of descriptors sent with the frame by
 * SCM_RIGHTS in the same sendmsg() as its first byte. That is the header check: a
 * receiver that got a different number of fds (or a truncated control message)
 * closes every fd it got and fails.
 *
 * Contract: ipc_recv() checks the total against 8 and the caller's maximum before it
 * allocates, then every attribute against the remaining bytes; it rejects unknown
 * kinds, bad names, duplicate names, NUL inside strings, 'I' values not 8 bytes long,
 * and frames with missing or wrong "_nfds". Sends and receives are non-blocking
 * underneath and poll() against one deadline for the whole message, so a slow or
 * stuck peer costs at most timeout_ms. Received fds are close-on-exec and owned by
 * the message until ipc_take_fd(); fds put with ipc_put_fd() stay the caller's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mail/ipc.h"
#include "util/buf.h"
#include "util/msg.h"

#define IPC_HDR		8
#define IPC_NFDS_NAME	"_nfds"

typedef struct ipc_attr {
	char kind;
	char *name;
	unsigned char *val;	/* S and B: len bytes + NUL */
	size_t len;
	int64_t ival;
} ipc_attr;

struct ipc_msg {
	uint32_t type;
	ipc_attr *attr;
	size_t nattr;
	size_t cap;
	int fds[IPC_MAX_FDS];
	size_t nfds;
	int own_fds;		/* received: close what was not taken */
};

ipc_msg *ipc_new(uint32_t type)
{
	ipc_msg *m = xcalloc(1, sizeof(*m));

	m->type = type;
	return m;
}

void ipc_free(ipc_msg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nattr; i++) {
		free(m->attr[i].name);
		free(m->attr[i].val);
	}
	free(m->attr);
	if (m->own_fds)
		for (size_t i = 0; i < m->nfds; i++)
			if (m->fds[i] >= 0)
				close(m->fds[i]);
	free(m);
}

uint32_t ipc_type(const ipc_msg *m)
{
	return m->type;
}

static int name_ok(const char *name, size_t len)
{
	if (len == 0 || len > 255)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return 0;
	return 1;
}

static ipc_attr *find(const ipc_msg *m, const char *name)
{
	for (size_t i = 0; i < m->nattr; i++)
		if (strcmp(m->attr[i].name, name) == 0)
			return m->attr + i;
	return NULL;
}

/* Append an attribute; the name is checked, a duplicate refused. */
static ipc_attr *add(ipc_msg *m, char kind, const char *name, size_t nlen)
{
	ipc_attr *a;

	if (m->nattr == m->cap) {
		size_t bytes;
		m->cap = m->cap ? m->cap * 2 : 8;
		if (size_mul(m->cap, sizeof(*m->attr), &bytes) < 0)
			msg_fatal("ipc: too many attributes");
		m->attr = xrealloc(m->attr, bytes);
	}
	a = m->attr + m->nattr++;
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->name = xstrndup(name, nlen);
	return a;
}

static int put_check(const ipc_msg *m, const char *name)
{
	if (name == NULL || !name_ok(name, strlen(name)) || name[0] == '_'
	    || find(m, name) != NULL) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int ipc_put_int(ipc_msg *m, const char *name, int64_t v)
{
	if (put_check(m, name) < 0)
		return -1;
	add(m, 'I', name, strlen(name))->ival = v;
	return 0;
}

static void set_val(ipc_attr *a, const void *p, size_t n)
{
	size_t sz;

	if (size_add(n, 1, &sz) < 0)
		msg_fatal("ipc: value too large");
	a->val = xmalloc(sz);
	if (n)
		memcpy(a->val, p, n);
	a->val[n] = 0;
	a->len = n;
}

int ipc_put_str(ipc_msg *m, const char *name, const char *s)
{
	size_t n;

	if (s == NULL || put_check(m, name) < 0 || (n = strlen(s)) > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	set_val(add(m, 'S', name, strlen(name)), s, n);
	return 0;
}

int ipc_put_bytes(ipc_msg *m, const char *name, const void *p, size_t n)
{
	if ((p == NULL && n) || n > UINT32_MAX || put_check(m, name) < 0) {
		errno = EINVAL;
		return -1;
	}
	set_val(add(m, 'B', name, strlen(name)), p, n);
	return 0;
}

int ipc_put_fd(ipc_msg *m, int fd)
{
	if (fd < 0 || m->nfds >= IPC_MAX_FDS || m->own_fds) {
		errno = EINVAL;
		return -1;
	}
	m->fds[m->nfds++] = fd;
	return 0;
}

int ipc_get_int(const ipc_msg *m, const char *name, int64_t *v)
{
	const ipc_attr *a = find(m, name);

	if (a == NULL || a->kind != 'I')
		return -1;
	*v = a->ival;
	return 0;
}

const char *ipc_get_str(const ipc_msg *m, const char *name)
{
	const ipc_attr *a = find(m, name);

	return a && a->kind == 'S' ? (const char *)a->val : NULL;
}

const void *ipc_get_bytes(const ipc_msg *m, const char *name, size_t *n)
{
	const ipc_attr *a = find(m, name);

	if (a == NULL || a->kind != 'B')
		return NULL;
	*n = a->len;
	return a->val;
}

size_t ipc_nfds(const ipc_msg *m)
{
	return m->nfds;
}

int ipc_take_fd(ipc_msg *m, size_t i)
{
	int fd;

	if (i >= m->nfds)
		return -1;
	fd = m->fds[i];
	if (m->own_fds)
		m->fds[i] = -1;
	return fd;
}

/* --- deadlines -------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events until the deadline (-1 = none). 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int ms = -1, n;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			ms = left <= 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
		}
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* --- sending ---------------------------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static int encode_attr(buf *b, char kind, const char *name, const void *val, size_t len)
{
	unsigned char h[2], l[4];
	size_t nlen = strlen(name);

	h[0] = (unsigned char)kind;
	h[1] = (unsigned char)nlen;
	put32(l, (uint32_t)len);
	if (buf_append(b, h, 2) < 0 || buf_append(b, name, nlen) < 0 || buf_append(b, l, 4) < 0)
		return -1;
	return len ? buf_append(b, val, len) : 0;
}

static int encode_int(buf *b, const char *name, int64_t v)
{
	unsigned char be[8];
	uint64_t u = (uint64_t)v;

	for (int i = 7; i >= 0; i--, u >>= 8)
		be[i] = (unsigned char)u;
	return encode_attr(b, 'I', name, be, 8);
}

static int encode(const ipc_msg *m, buf *b)
{
	unsigned char hdr[IPC_HDR] = { 0 };

	put32(hdr + 4, m->type);
	if (buf_append(b, hdr, IPC_HDR) < 0 || encode_int(b, IPC_NFDS_NAME, (int64_t)m->nfds) < 0)
		return -1;
	for (size_t i = 0; i < m->nattr; i++) {
		const ipc_attr *a = m->attr + i;
		int rc = a->kind == 'I' ? encode_int(b, a->name, a->ival)
			: encode_attr(b, a->kind, a->name, a->val, a->len);
		if (rc < 0)
			return -1;
	}
	put32((unsigned char *)b->data, (uint32_t)b->len);
	return 0;
}

int ipc_send(int sock, const ipc_msg *m, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} cm;
	size_t off = 0;
	buf b;

	buf_init(&b, UINT32_MAX);
	if (encode(m, &b) < 0) {
		buf_free(&b);
		errno = EMSGSIZE;
		return -1;
	}
	while (off < b.len) {
		struct iovec iov = { b.data + off, b.len - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (off == 0 && m->nfds > 0) {
			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.space;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * m->nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * m->nfds);
			memcpy(CMSG_DATA(c), m->fds, sizeof(int) * m->nfds);
		}
		n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int w = wait_fd(sock, POLLOUT, deadline);
			if (w > 0)
				continue;
			if (w == 0)
				errno = ETIMEDOUT;
		}
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	return 0;
}

/* --- receiving -------------------------------------------------------------- */

typedef struct rx {
	int sock;
	int64_t deadline;
	int fds[IPC_MAX_FDS];
	size_t nfds;
	int fd_trouble;		/* too many fds, truncated control data, not SCM_RIGHTS */
	char *err;
	size_t errlen;
} rx;

static void rx_close_fds(rx *r)
{
	for (size_t i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
}

static void rx_cmsgs(rx *r, struct msghdr *mh)
{
	if (mh->msg_flags & MSG_CTRUNC)
		r->fd_trouble = 1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			r->fd_trouble = 1;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (r->nfds < IPC_MAX_FDS)
				r->fds[r->nfds++] = fd;
			else {
				close(fd);
				r->fd_trouble = 1;
			}
		}
	}
}

/* Read exactly len bytes, collecting any fds. 1 done, 0 clean EOF before any byte
 * (when eof_ok), -1 error (err set). */
static int rx_read(rx *r, void *dst, size_t len, int eof_ok)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} cm;
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { (char *)dst + got, len - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cm.space, .msg_controllen = sizeof(cm.space) };
		ssize_t n = recvmsg(r->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n > 0) {
			rx_cmsgs(r, &mh);
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			if (got == 0 && eof_ok)
				return 0;
			snprintf(r->err, r->errlen, "connection closed in the middle of a message");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(r->sock, POLLIN, r->deadline);
			if (w > 0)
				continue;
			if (w == 0) {
				snprintf(r->err, r->errlen, "timeout");
				errno = ETIMEDOUT;
				return -1;
			}
		}
		snprintf(r->err, r->errlen, "read: %s", strerror(errno));
		return -1;
	}
	return 1;
}

static int rx_fail(rx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rx_fail(rx *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const ipc_attr *)a)->name, ((const ipc_attr *)b)->name);
}

/* Parse attributes from p[0..len); every length is checked before use. */
static int rx_parse(rx *r, ipc_msg *m, const unsigned char *p, size_t len)
{
	size_t off = 0;
	int64_t nfds = -1;

	while (off < len) {
		size_t left = len - off, nlen, vlen;
		const unsigned char *name, *val;
		char kind;
		ipc_attr *a;

		if (left < 2)
			return rx_fail(r, "truncated attribute header");
		kind = (char)p[off];
		nlen = p[off + 1];
		if (kind != 'I' && kind != 'S' && kind != 'B')
			return rx_fail(r, "unknown attribute kind 0x%02x",
					(unsigned)p[off]);
		if (nlen == 0 || left - 2 < nlen + 4)
			return rx_fail(r, "truncated attribute name");
		name = p + off + 2;
		if (!name_ok((const char *)name, nlen))
			return rx_fail(r, "bad attribute name");
		vlen = get32(name + nlen);
		val = name + nlen + 4;
		if (vlen > left - 2 - nlen - 4)
			return rx_fail(r, "attribute value length %zu beyond message",
					vlen);
		if (kind == 'I' && vlen != 8)
			return rx_fail(r, "integer attribute of %zu bytes", vlen);
		if (kind == 'S' && memchr(val, 0, vlen) != NULL)
			return rx_fail(r, "NUL inside string attribute");
		off += 2 + nlen + 4 + vlen;
		a = add(m, kind, (const char *)name, nlen);
		if (kind == 'I') {
			uint64_t u = 0;
			for (int i = 0; i < 8; i++)
				u = u << 8 | val[i];
			a->ival = (int64_t)u;
		} else {
			set_val(a, val, vlen);
		}
	}
	if (m->nattr > 1) {
		/* sort a copy of the names to find duplicates in O(n log n) */
		ipc_attr *sorted = xmalloc(m->nattr * sizeof(*sorted));
		int dup = 0;
		memcpy(sorted, m->attr, m->nattr * sizeof(*sorted));
		qsort(sorted, m->nattr, sizeof(*sorted), name_cmp);
		for (size_t i = 1; i < m->nattr && !dup; i++)
			dup = strcmp(sorted[i - 1].name, sorted[i].name) == 0;
		free(sorted);
		if (dup)
			return rx_fail(r, "duplicate attribute name");
	}
	if (m->nattr == 0 || strcmp(m->attr[0].name, IPC_NFDS_NAME) != 0
	    || m->attr[0].kind != 'I')
		return rx_fail(r, "no descriptor count");
	nfds = m->attr[0].ival;
	if (nfds != (int64_t)r->nfds)
		return rx_fail(r, "descriptor count mismatch (%lld announced, %zu"
				" received)", (long long)nfds, r->nfds);
	return 0;
}

ipc_msg *ipc_recv(int sock, size_t max_len, int timeout_ms, char *err, size_t errlen)
{
	rx r = { .sock = sock, .err = err, .errlen = errlen };
	unsigned char hdr[IPC_HDR], *body = NULL;
	uint32_t total;
	ipc_msg *m = NULL;
	int rc;

	r.deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	if (max_len == 0)
		max_len = IPC_DEFAULT_MAX;
	if ((rc = rx_read(&r, hdr, IPC_HDR, 1)) <= 0) {
		if (rc == 0)
			snprintf(err, errlen, "connection closed");
		goto fail;
	}
	total = get32(hdr);
	if (total < IPC_HDR || total > max_len) {
		snprintf(err, errlen, "message length %u out of range (8..%zu)", total, max_len);
		goto fail;
	}
	body = xmalloc(total - IPC_HDR + 1);
	if (total > IPC_HDR && rx_read(&r, body, total - IPC_HDR, 0) < 0)
		goto fail;
	if (r.fd_trouble) {
		snprintf(err, errlen, "bad or too many descriptors");
		goto fail;
	}
	m = ipc_new(get32(hdr + 4));
	if (rx_parse(&r, m, body, total - IPC_HDR) < 0)
		goto fail;
	free(body);
	/* the count attribute is the frame's, not the caller's business */
	free(m->attr[0].name);
	free(m->attr[0].val);
	memmove(m->attr, m->attr + 1, (m->nattr - 1) * sizeof(*m->attr));
	m->nattr--;
	memcpy(m->fds, r.fds, r.nfds * sizeof(int));
	m->nfds = r.nfds;
	m->own_fds = 1;
	return m;
fail:
	rx_close_fds(&r);
	free(body);
	ipc_free(m);
	return NULL;
}

/* --- connecting ------------------------------------------------------------- */

int ipc_connect(const char *path, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, saved;

	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* the listener's backlog is full: try again shortly */
			if (deadline >= 0 && now_ms() >= deadline) {
				errno = ETIMEDOUT;
				goto fail;
			}
			poll(NULL, 0, 10);
			continue;
		}
		if (errno == EINPROGRESS) {
			int w = wait_fd(fd, POLLOUT, deadline), soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (w <= 0) {
				if (w == 0)
					errno = ETIMEDOUT;
				goto fail;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				goto fail;
			if (soerr != 0) {
				errno = soerr;
				goto fail;
			}
			break;
		}
		goto fail;
	}
	/* callers may use the fd with blocking I/O; ipc_send/recv do not care */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
