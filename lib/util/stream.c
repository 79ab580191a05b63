/*
 * stream.c - blocking buffered I/O over a descriptor, optionally TLS, with timeouts.
 *
 * Contract (see stream.h): each call is bounded by the stream's timeout, taken as a
 * deadline for the whole call (a peer that drips one byte a second cannot stretch a
 * line forever); timeout_ms <= 0 means no limit. Sockets are switched to non-blocking
 * mode and waited on with poll(); other descriptors (pipes, files) are polled and then
 * read/written normally. stream_getline() returns at most max bytes of line; an
 * over-long line is read and dropped up to its newline and reported as
 * STREAM_TOOLONG (line keeps the first max bytes). At EOF in the middle of a line,
 * STREAM_EOF is returned and line holds the partial text.
 *
 * STARTTLS injection defence: stream_starttls_*() discard any plaintext already
 * buffered (it arrived before the handshake, so it cannot be trusted), log a warning
 * with the byte count, and go on with the handshake, as Postfix does (CVE-2011-0411,
 * and the client-side "NO STARTTLS" family). stream_tls_discarded() tells the count.
 * Starting TLS sets SIGPIPE to SIG_IGN if it was SIG_DFL (OpenSSL uses write(2)).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/msg.h"
#include "util/stream.h"
#include "util/stream_tls.h"

#define STREAM_BUFSIZE 16384

struct stream {
	int fd;
	int timeout_ms;
	int is_socket;
	SSL *ssl;
	size_t discarded;	/* plaintext dropped at STARTTLS */
	int verified;		/* client: peer certificate and name verified */
	size_t rpos, rlen;
	size_t wlen;
	char info[160];
	char rbuf[STREAM_BUFSIZE];
	char wbuf[STREAM_BUFSIZE];
};

/* ---- time and waiting --------------------------------------------------------- */

static long long stream_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long stream_deadline(const stream *s)
{
	return s->timeout_ms > 0 ? stream_now_ms() + s->timeout_ms : -1;
}

/* Wait for events on the fd until the deadline: 0 ready, STREAM_TIMEOUT/ERROR. */
static int stream_wait(const stream *s, short events, long long deadline)
{
	struct pollfd pfd = { .fd = s->fd, .events = events };
	long long left;
	int rc;

	for (;;) {
		left = deadline < 0 ? -1 : deadline - stream_now_ms();
		if (deadline >= 0 && left <= 0)
			return STREAM_TIMEOUT;
		rc = poll(&pfd, 1, left > 1000000000 ? 1000000000 : (int)left);
		if (rc > 0)
			return 0;	/* readable, writable, or an error the I/O call reports */
		if (rc == 0)
			return STREAM_TIMEOUT;
		if (errno != EINTR)
			return STREAM_ERROR;
	}
}

/* ---- open/close --------------------------------------------------------------- */

stream *stream_open(int fd, int timeout_ms)
{
	stream *s = xcalloc(1, sizeof(*s));
	struct stat st;

	s->fd = fd;
	s->timeout_ms = timeout_ms;
	s->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	if (s->is_socket)
		net_nonblock(fd, 1);
	return s;
}

void stream_close(stream *s)
{
	if (!s)
		return;
	if (s->ssl) {
		/* One close_notify attempt; a peer that is gone must not hold us. */
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

void stream_set_timeout(stream *s, int timeout_ms)
{
	s->timeout_ms = timeout_ms;
}

int stream_fd(const stream *s)
{
	return s->fd;
}

size_t stream_pending(const stream *s)
{
	return s->rlen - s->rpos + (s->ssl ? (size_t)SSL_pending(s->ssl) : 0);
}

/* ---- raw I/O ------------------------------------------------------------------ */

/* Map an SSL_read/SSL_write result: >0 bytes, 0 = wait (events set), or STREAM_*. */
static ssize_t stream_ssl_result(stream *s, int n, short *events)
{
	int e = SSL_get_error(s->ssl, n);

	if (n > 0)
		return n;
	switch (e) {
	case SSL_ERROR_WANT_READ:
		*events = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*events = POLLOUT;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return STREAM_EOF;
	case SSL_ERROR_SYSCALL:
		if (errno == EINTR) {
			*events = POLLIN | POLLOUT;
			return 0;
		}
		ERR_clear_error();
		return n == 0 ? STREAM_EOF : STREAM_ERROR;
	default:
		ERR_clear_error();
		return STREAM_ERROR;
	}
}

/* One read of up to n bytes, waiting until the deadline. */
static ssize_t stream_raw_read(stream *s, void *p, size_t n, long long deadline)
{
	short events = POLLIN;
	ssize_t r;
	int w;

	for (;;) {
		if (s->ssl) {
			ERR_clear_error();
			r = stream_ssl_result(s, SSL_read(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n),
					      &events);
			if (r != 0)
				return r;
		} else {
			/* a socket is non-blocking: try first; anything else: poll first */
			if (!s->is_socket && (w = stream_wait(s, POLLIN, deadline)) < 0)
				return w;
			r = s->is_socket ? recv(s->fd, p, n, MSG_DONTWAIT) : read(s->fd, p, n);
			if (r > 0)
				return r;
			if (r == 0)
				return STREAM_EOF;
			if (errno == EINTR || (!s->is_socket && errno == EAGAIN))
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return STREAM_ERROR;
			events = POLLIN;
		}
		if ((w = stream_wait(s, events, deadline)) < 0)
			return w;
	}
}

/* Write all n bytes before the deadline. */
static int stream_raw_write(stream *s, const char *p, size_t n, long long deadline)
{
	short events = POLLOUT;
	ssize_t r;
	int w;

	while (n > 0) {
		if (s->ssl) {
			ERR_clear_error();
			r = stream_ssl_result(s, SSL_write(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n),
					      &events);
			if (r < 0)
				return r == STREAM_EOF ? STREAM_ERROR : (int)r;
		} else {
			if ((w = stream_wait(s, POLLOUT, deadline)) < 0)
				return w;
			r = s->is_socket ? send(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL)
					 : write(s->fd, p, n);
			if (r < 0) {
				if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
					continue;
				return STREAM_ERROR;
			}
		}
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (s->ssl && (w = stream_wait(s, events, deadline)) < 0)
			return w;
	}
	return 0;
}

/* Refill the read buffer (only when empty). Returns bytes now buffered or STREAM_*. */
static ssize_t stream_fill(stream *s, long long deadline)
{
	ssize_t r;

	if (s->rpos < s->rlen)
		return (ssize_t)(s->rlen - s->rpos);
	s->rpos = s->rlen = 0;
	r = stream_raw_read(s, s->rbuf, sizeof(s->rbuf), deadline);
	if (r > 0)
		s->rlen = (size_t)r;
	return r;
}

/* ---- buffered API ------------------------------------------------------------- */

ssize_t stream_getline(stream *s, buf *line, size_t max, int *bare_lf)
{
	long long deadline = stream_deadline(s);
	size_t keep = max < SIZE_MAX ? max + 1 : max;	/* room for the CR we strip */
	int toolong = 0;
	char lastc = 0;
	ssize_t r;
	char *nl;
	size_t chunk, take;

	buf_reset(line);
	if (bare_lf)
		*bare_lf = 0;
	for (;;) {
		if ((r = stream_fill(s, deadline)) < 0)
			return r;
		nl = memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos);
		chunk = nl ? (size_t)(nl - (s->rbuf + s->rpos)) : s->rlen - s->rpos;
		if (chunk)
			lastc = s->rbuf[s->rpos + chunk - 1];
		if (!toolong) {
			take = chunk;
			if (line->len + take > keep) {
				take = keep - line->len;
				toolong = 1;
			}
			if (take && buf_append(line, s->rbuf + s->rpos, take) < 0)
				toolong = 1;	/* line->limit is below max */
		}
		s->rpos += chunk;
		if (nl)
			break;
	}
	s->rpos++;	/* the LF */
	if (bare_lf)
		*bare_lf = lastc != '\r';
	if (!toolong && lastc == '\r' && line->len)
		buf_truncate(line, line->len - 1);
	if (toolong || line->len > max) {
		buf_truncate(line, max < line->len ? max : line->len);
		return STREAM_TOOLONG;
	}
	return (ssize_t)line->len;
}

ssize_t stream_read(stream *s, void *p, size_t n)
{
	ssize_t r;
	size_t take;

	if (n == 0)
		return 0;
	if ((r = stream_fill(s, stream_deadline(s))) < 0)
		return r;
	take = s->rlen - s->rpos < n ? s->rlen - s->rpos : n;
	memcpy(p, s->rbuf + s->rpos, take);
	s->rpos += take;
	return (ssize_t)take;
}

int stream_flush(stream *s)
{
	int rc;

	if (s->wlen == 0)
		return 0;
	rc = stream_raw_write(s, s->wbuf, s->wlen, stream_deadline(s));
	s->wlen = 0;	/* on error the data is lost anyway: the stream is dead */
	return rc;
}

int stream_write(stream *s, const void *p, size_t n)
{
	int rc;

	if (s->wlen + n <= sizeof(s->wbuf)) {
		memcpy(s->wbuf + s->wlen, p, n);
		s->wlen += n;
		return 0;
	}
	if ((rc = stream_flush(s)) < 0)
		return rc;
	if (n <= sizeof(s->wbuf)) {
		memcpy(s->wbuf, p, n);
		s->wlen = n;
		return 0;
	}
	return stream_raw_write(s, p, n, stream_deadline(s));
}

int stream_printf(stream *s, const char *fmt, ...)
{
	va_list ap;
	buf b;
	int rc;

	buf_init(&b, 0);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = stream_write(s, b.data, b.len);
	buf_free(&b);
	return rc;
}

/* ---- TLS ---------------------------------------------------------------------- */

static void stream_ssl_error(const char *what, char *err, size_t errlen)
{
	char e[256];
	unsigned long code = ERR_get_error();

	if (code)
		ERR_error_string_n(code, e, sizeof(e));
	else
		str_copy(e, sizeof(e), "connection closed or failed");
	snprintf(err, errlen, "%s: %s", what, e);
	ERR_clear_error();
}

/* Plaintext that came before the handshake is dropped: see the file header. */
static void stream_tls_purge(stream *s, const char *side)
{
	s->discarded = s->rlen - s->rpos;
	s->rpos = s->rlen = 0;
	if (s->discarded)
		msg_warn("discarded %zu byte%s of plaintext received before the TLS handshake "
			 "(%s; possible STARTTLS injection)", s->discarded,
			 s->discarded == 1 ? "" : "s", side);
}

/* OpenSSL writes to the socket with plain write(2): a peer that has gone would kill
 * us with SIGPIPE. Ignore it unless the program chose a handler of its own. */
static void stream_no_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static int stream_handshake(stream *s, int server, char *err, size_t errlen)
{
	long long deadline = stream_deadline(s);
	short events = POLLIN;
	ssize_t r;
	int w;

	stream_no_sigpipe();
	if (!s->is_socket)
		net_nonblock(s->fd, 1);
	for (;;) {
		ERR_clear_error();
		r = server ? SSL_accept(s->ssl) : SSL_connect(s->ssl);
		if (r == 1)
			return 0;
		r = stream_ssl_result(s, (int)r, &events);
		if (r < 0 || r > 0) {
			if (r == STREAM_EOF || ERR_peek_error() == 0) {
				long v = SSL_get_verify_result(s->ssl);

				if (!server && v != X509_V_OK) {
					snprintf(err, errlen, "TLS handshake failed: certificate "
						 "verification failed: %s",
						 X509_verify_cert_error_string(v));
					return -1;
				}
			}
			stream_ssl_error("TLS handshake failed", err, errlen);
			return -1;
		}
		if ((w = stream_wait(s, events, deadline)) < 0) {
			snprintf(err, errlen, "TLS handshake %s", w == STREAM_TIMEOUT ?
				 "timed out" : "failed: poll error");
			return -1;
		}
	}
}

static void stream_set_info(stream *s)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
	int alg = 0, bits = c ? SSL_CIPHER_get_bits(c, &alg) : 0;

	snprintf(s->info, sizeof(s->info), "%s with cipher %s (%d/%d bits)",
		 SSL_get_version(s->ssl), c ? SSL_CIPHER_get_name(c) : "none", bits, alg);
}

static int stream_is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Set up name checking for verify=verify; SNI for any name. */
static int stream_client_names(stream *s, const char *host, int verify, char *err,
			       size_t errlen)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(s->ssl);
	int ip = host && stream_is_ip_literal(host);

	if (host && *host && !ip)
		SSL_set_tlsext_host_name(s->ssl, host);
	if (!verify)
		return 0;
	if (!host || !*host) {
		snprintf(err, errlen, "TLS verify requires a peer name");
		return -1;
	}
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if ((ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
		: X509_VERIFY_PARAM_set1_host(param, host, 0)) != 1) {
		snprintf(err, errlen, "TLS: cannot set peer name \"%s\" for verification", host);
		return -1;
	}
	SSL_set_verify(s->ssl, SSL_VERIFY_PEER, NULL);
	return 0;
}

int stream_starttls_client(stream *s, tls_ctx *ctx, const char *host, const char *verify,
			   char *err, size_t errlen)
{
	int want_verify;

	if (s->ssl) {
		snprintf(err, errlen, "TLS already active");
		return -1;
	}
	if (!verify || (strcmp(verify, "none") && strcmp(verify, "may") && strcmp(verify, "verify"))) {
		snprintf(err, errlen, "bad TLS verify mode \"%s\" (want none, may or verify)",
			 verify ? verify : "(null)");
		return -1;
	}
	want_verify = strcmp(verify, "verify") == 0;
	if (stream_flush(s) < 0) {
		snprintf(err, errlen, "write error before TLS handshake");
		return -1;
	}
	stream_tls_purge(s, "server");
	if ((s->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
		stream_ssl_error("TLS setup", err, errlen);
		return -1;
	}
	if (stream_client_names(s, host, want_verify, err, errlen) < 0
	    || stream_handshake(s, 0, err, errlen) < 0) {
		SSL_free(s->ssl);
		s->ssl = NULL;
		return -1;
	}
	s->verified = SSL_get_verify_result(s->ssl) == X509_V_OK
		&& SSL_get0_peer_certificate(s->ssl) != NULL;
	stream_set_info(s);
	return 0;
}

int stream_starttls_server(stream *s, tls_ctx *ctx, char *err, size_t errlen)
{
	if (s->ssl) {
		snprintf(err, errlen, "TLS already active");
		return -1;
	}
	if (stream_flush(s) < 0) {
		snprintf(err, errlen, "write error before TLS handshake");
		return -1;
	}
	stream_tls_purge(s, "client");
	if ((s->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
		stream_ssl_error("TLS setup", err, errlen);
		return -1;
	}
	if (stream_handshake(s, 1, err, errlen) < 0) {
		SSL_free(s->ssl);
		s->ssl = NULL;
		return -1;
	}
	stream_set_info(s);
	return 0;
}

int stream_is_tls(const stream *s)
{
	return s->ssl != NULL;
}

const char *stream_tls_info(const stream *s)
{
	return s->ssl ? s->info : "";
}

size_t stream_tls_discarded(const stream *s)
{
	return s->discarded;
}

int stream_tls_verified(const stream *s)
{
	return s->ssl && s->verified;
}

const char *stream_tls_peer_cn(const stream *s, char *out, size_t outlen)
{
	X509 *cert;
	X509_NAME *name;

	if (outlen)
		out[0] = 0;
	if (!s->ssl || (cert = SSL_get0_peer_certificate(s->ssl)) == NULL)
		return out;
	name = X509_get_subject_name(cert);
	if (name && outlen)
		X509_NAME_get_text_by_NID(name, NID_commonName, out, (int)outlen);
	return out;
}
