/*
 * stream.h - blocking buffered I/O over a socket, optionally TLS, with timeouts.
 *
 * For the clients (smtp, popd-client) and simple servers. Contract: every read and
 * write is bounded by the stream's timeout; stream_getline() never returns more than
 * the caller's limit (an over-long line is reported as such, and the rest of it is
 * read and discarded up to the newline, so the caller can reply and carry on);
 * stream_starttls() refuses to start TLS while unread plaintext is buffered (the
 * STARTTLS/STLS injection defence: that input is discarded and reported).
 */
#ifndef FAXPOST_UTIL_STREAM_H
#define FAXPOST_UTIL_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

typedef struct stream stream;
typedef struct ssl_ctx_st tls_ctx;	/* OpenSSL SSL_CTX */

#define STREAM_EOF	(-1)
#define STREAM_TIMEOUT	(-2)
#define STREAM_ERROR	(-3)
#define STREAM_TOOLONG	(-4)

stream *stream_open(int fd, int timeout_ms);
void stream_close(stream *s);		/* closes the fd too (TLS close_notify first) */
void stream_set_timeout(stream *s, int timeout_ms);
int stream_fd(const stream *s);

/* Line without its CRLF/LF into line (reset first). Returns length, or a STREAM_* code.
 * *bare_lf set to 1 when the line ended with LF alone (may be NULL). */
ssize_t stream_getline(stream *s, buf *line, size_t max, int *bare_lf);
ssize_t stream_read(stream *s, void *p, size_t n);	/* up to n bytes */
int stream_write(stream *s, const void *p, size_t n);	/* buffered */
int stream_printf(stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int stream_flush(stream *s);
size_t stream_pending(const stream *s);			/* buffered unread bytes */

/* TLS. Client: verify is "none", "may" or "verify" (peer name checked against host).
 * Server: ctx with cert and key. Returns 0, or -1 with err set. */
int stream_starttls_client(stream *s, tls_ctx *ctx, const char *host, const char *verify,
			   char *err, size_t errlen);
int stream_starttls_server(stream *s, tls_ctx *ctx, char *err, size_t errlen);
int stream_is_tls(const stream *s);
const char *stream_tls_info(const stream *s);	/* "TLSv1.3 with cipher ..." */

tls_ctx *tls_ctx_client(const char *ca_file, const char *ca_path, char *err, size_t errlen);
tls_ctx *tls_ctx_server(const char *cert_file, const char *key_file, char *err, size_t errlen);
void tls_ctx_free(tls_ctx *ctx);

/* Networking helpers. host may be a name or address; returns a connected fd or -1. */
int net_connect(const char *host, const char *port, int timeout_ms, char *err, size_t errlen);
int net_listen(const char *addr, const char *port, int backlog, char *err, size_t errlen);
int net_listen_unix(const char *path, int mode, int backlog, char *err, size_t errlen);
int net_nonblock(int fd, int on);
/* "host[addr]" of the peer for logs; ipbuf gets the bare address. */
int net_peer_name(int fd, char *name, size_t namelen, char *ipbuf, size_t iplen);

#endif
