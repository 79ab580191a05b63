/*
 * session.c - one SMTP client session: greeting, EHLO, STARTTLS, AUTH, one mail
 * transaction (or several under CONNEG grouping), QUIT.
 *
 * Contract: results go into the request per recipient: 2xx (sent; marked done in the
 * file by deliver_req_status), 5xx (bounce), 4xx (defer). A failure before any
 * recipient is decided (connect, greeting, TLS, AUTH, MAIL, a hostile or broken
 * reply) leaves the recipients open and returns 1 with why/status set, so the caller
 * tries the next address. Defences (security.md 2.2, 2.9): replies are parsed by
 * reply.c with line and line-count limits; after STARTTLS all plaintext buffered is
 * discarded by the stream and EHLO is sent again (what was learned before TLS is
 * forgotten); with smtp_tls_security_level=verify a server that does not offer
 * STARTTLS or fails verification gets nothing but QUIT (4.7.5); AUTH is never sent
 * in the clear unless smtp_sasl_tls_only=no. The message goes out dot-stuffed with
 * CRLF line ends only (a bare CR or LF in the queue file becomes CRLF).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/featureset.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "util/msg.h"
#include "body.h"
#include "convert.h"
#include "smtp.h"

typedef struct sess {
	const smtp_cfg *cfg;
	deliver_req *req;
	stream *s;
	smtp_reply r;
	smtp_ehlo ehlo;
	buf line;
	char *why;
	size_t whylen;
	char *wst;
	size_t wstlen;
	char peer[290];		/* host[ip]:port */
	smtp_target t;
	int uses;
	int body_fd;		/* >= 0: send this (a converted copy) instead of the queue file */
	off_t body_len;
	int conperm;		/* the message is under CONPERM */
	int ask_conneg;
} sess;

/* Session-level failure: keep recipients open, say why (status class from code). */
static int sess_fail(sess *x, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sess_fail(sess *x, const char *status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, x->whylen, fmt, ap);
	va_end(ap);
	snprintf(x->wst, x->wstlen, "%s", status);
	return -1;
}

/* Read one complete reply. Returns the code, or -1 (why set). */
static int sess_reply(sess *x, int timeout_ms, const char *stage)
{
	int bare;

	smtp_reply_reset(&x->r);
	stream_set_timeout(x->s, timeout_ms);
	for (;;) {
		ssize_t n = stream_getline(x->s, &x->line, x->cfg->line_limit, &bare);
		int toolong = 0;
		if (n == STREAM_TOOLONG) {
			toolong = 1;
			n = (ssize_t)x->line.len;
		} else if (n == STREAM_TIMEOUT) {
			return sess_fail(x, "4.4.2", "conversation with %s timed out while %s",
					 x->peer, stage);
		} else if (n < 0) {
			return sess_fail(x, "4.4.2", "lost connection with %s while %s", x->peer, stage);
		}
		int rc = smtp_reply_feed(&x->r, x->line.data ? x->line.data : "", (size_t)n, toolong);
		if (rc < 0)
			return sess_fail(x, "4.5.0", "protocol error from %s while %s: %s",
					 x->peer, stage, x->r.err);
		if (rc == 1)
			return x->r.code;
	}
}

static int sess_send(sess *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sess_send(sess *x, const char *fmt, ...)
{
	va_list ap;
	buf b;
	int rc;

	buf_init(&b, 4096);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = buf_append_str(&b, "\r\n");
	if (rc == 0)
		rc = stream_write(x->s, b.data, b.len);
	buf_free(&b);
	return rc;
}

static int sess_flush(sess *x, const char *stage)
{
	if (stream_flush(x->s) < 0)
		return sess_fail(x, "4.4.2", "lost connection with %s while %s", x->peer, stage);
	return 0;
}

/* "host X said: 550 5.1.1 ... (in reply to RCPT TO command)" */
static void sess_said(sess *x, const char *cmd, char *out, size_t len)
{
	buf sum;

	buf_init(&sum, 4096);
	smtp_reply_summary(&x->r, &sum);
	snprintf(out, len, "host %s said: %s (in reply to %s command)", x->peer, buf_str(&sum), cmd);
	buf_free(&sum);
}

/* Enhanced status for a reply: the server's when given, else from the code. */
static void sess_status(const smtp_reply *r, char *out, size_t len, const char *dflt_detail)
{
	if (r->enh[0])
		snprintf(out, len, "%s", r->enh);
	else
		snprintf(out, len, "%d.%s", r->code / 100, dflt_detail);
}

static int sess_reply_fail(sess *x, const char *cmd)
{
	char said[1200], st[16];

	sess_said(x, cmd, said, sizeof said);
	sess_status(&x->r, st, sizeof st, "0.0");
	if (x->r.code / 100 == 2)
		snprintf(st, sizeof st, "4.5.0");
	return sess_fail(x, st, "%s", said);
}

static int sess_ehlo(sess *x)
{
	if (sess_send(x, "EHLO %s", x->cfg->helo_name) < 0 || sess_flush(x, "sending EHLO") < 0)
		return -1;
	int code = sess_reply(x, x->cfg->helo_ms, "receiving the EHLO reply");
	if (code < 0)
		return -1;
	if (code / 100 == 2) {
		smtp_ehlo_parse(&x->r, &x->ehlo);
		return 0;
	}
	/* an old server: HELO, no extensions */
	memset(&x->ehlo, 0, sizeof x->ehlo);
	if (sess_send(x, "HELO %s", x->cfg->helo_name) < 0 || sess_flush(x, "sending HELO") < 0)
		return -1;
	code = sess_reply(x, x->cfg->helo_ms, "receiving the HELO reply");
	if (code < 0)
		return -1;
	if (code / 100 != 2)
		return sess_reply_fail(x, "HELO");
	return 0;
}

static int sess_tls(sess *x, int wrapper)
{
	char err[512];
	int verify = strcmp(x->cfg->tls_level, "verify") == 0;

	if (!wrapper) {
		if (sess_send(x, "STARTTLS") < 0 || sess_flush(x, "sending STARTTLS") < 0)
			return -1;
		int code = sess_reply(x, x->cfg->helo_ms, "receiving the STARTTLS reply");
		if (code < 0)
			return -1;
		if (code != 220) {
			if (verify)
				return sess_reply_fail(x, "STARTTLS");
			return 1;	/* "may": go on in the clear */
		}
	}
	if (x->cfg->tls == NULL)
		return sess_fail(x, "4.7.5", "TLS is not available (no client context)");
	stream_set_timeout(x->s, x->cfg->helo_ms);
	if (stream_starttls_client(x->s, x->cfg->tls, x->t.host, x->cfg->tls_level, err, sizeof err) < 0)
		return sess_fail(x, "4.7.5", "TLS handshake with %s failed: %s", x->peer, err);
	/* with verify, the handshake itself fails on a bad certificate or name */
	msg_info("%s TLS connection established to %s: %s",
		 verify ? "Verified" : "Untrusted", x->peer, stream_tls_info(x->s));
	return 0;
}

static void sess_b64(const unsigned char *in, size_t n, buf *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		buf_append_char(out, tab[(v >> 18) & 63]);
		buf_append_char(out, tab[(v >> 12) & 63]);
		buf_append_char(out, i + 1 < n ? tab[(v >> 6) & 63] : '=');
		buf_append_char(out, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* Credentials for this next hop: "[host]:port", "[host]", host, domain. */
static const char *sess_password(sess *x)
{
	char key[400];
	const char *v;

	if (x->cfg->passwords == NULL)
		return NULL;
	if ((v = dict_lookup(x->cfg->passwords, x->t.nexthop)) != NULL)
		return v;
	snprintf(key, sizeof key, "[%s]:%d", x->t.host, x->t.port);
	if ((v = dict_lookup(x->cfg->passwords, key)) != NULL)
		return v;
	snprintf(key, sizeof key, "[%s]", x->t.host);
	if ((v = dict_lookup(x->cfg->passwords, key)) != NULL)
		return v;
	return dict_lookup(x->cfg->passwords, x->t.host);
}

static int sess_auth(sess *x)
{
	const char *cred = sess_password(x);
	char user[256], pass[256];
	buf b;
	int code;

	if (cred == NULL)
		return 0;
	const char *colon = strchr(cred, ':');
	if (colon == NULL || str_ncopy(user, sizeof user, cred, (size_t)(colon - cred)) < 0
	    || str_copy(pass, sizeof pass, colon + 1) < 0)
		return sess_fail(x, "4.7.0", "bad entry for %s in smtp_sasl_password_maps", x->t.nexthop);
	if (!(x->ehlo.features & EHLO_AUTH) || !(x->ehlo.auth & (AUTH_PLAIN | AUTH_LOGIN)))
		return sess_fail(x, "4.7.0", "%s offers no AUTH PLAIN or LOGIN, but credentials are configured", x->peer);
	if (!stream_is_tls(x->s) && x->cfg->sasl_tls_only)
		return sess_fail(x, "4.7.0", "refusing to send AUTH to %s over an unencrypted connection", x->peer);
	buf_init(&b, 4096);
	if (x->ehlo.auth & AUTH_PLAIN) {
		unsigned char raw[600];
		size_t ul = strlen(user), pl = strlen(pass);
		raw[0] = 0;
		memcpy(raw + 1, user, ul);
		raw[1 + ul] = 0;
		memcpy(raw + 2 + ul, pass, pl);
		sess_b64(raw, 2 + ul + pl, &b);
		explicit_bzero(raw, sizeof raw);
		sess_send(x, "AUTH PLAIN %s", buf_str(&b));
		code = sess_flush(x, "sending AUTH") < 0 ? -1
			: sess_reply(x, x->cfg->helo_ms, "receiving the AUTH reply");
	} else {
		sess_b64((const unsigned char *)user, strlen(user), &b);
		sess_send(x, "AUTH LOGIN %s", buf_str(&b));
		code = sess_flush(x, "sending AUTH") < 0 ? -1
			: sess_reply(x, x->cfg->helo_ms, "receiving the AUTH reply");
		if (code == 334) {
			buf_reset(&b);
			sess_b64((const unsigned char *)pass, strlen(pass), &b);
			sess_send(x, "%s", buf_str(&b));
			code = sess_flush(x, "sending AUTH") < 0 ? -1
				: sess_reply(x, x->cfg->helo_ms, "receiving the AUTH reply");
		}
	}
	explicit_bzero(b.data ? b.data : pass, b.data ? b.cap : sizeof pass);
	explicit_bzero(pass, sizeof pass);
	buf_free(&b);
	if (code < 0)
		return -1;
	if (code != 235) {
		char said[1200];
		sess_said(x, "AUTH", said, sizeof said);
		return sess_fail(x, "4.7.0", "SASL authentication failed; %s", said);
	}
	return 0;
}

/* xtext (RFC 3461) for ENVID and ORCPT. */
static void sess_xtext(const char *in, buf *out)
{
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			buf_printf(out, "+%02X", *p);
		else
			buf_append_char(out, (char)*p);
	}
}

static void sess_mail_cmd(sess *x, buf *cmd)
{
	const qenvelope *env = &x->req->qf->env;

	buf_printf(cmd, "MAIL FROM:<%s>", x->req->sender);
	if (x->ehlo.features & EHLO_SIZE)
		buf_printf(cmd, " SIZE=%lld", (long long)(x->body_fd >= 0 ? x->body_len
							       : x->req->qf->content_len));
	if (env->body_8bit && (x->ehlo.features & EHLO_8BITMIME))
		buf_append_str(cmd, " BODY=8BITMIME");
	if (x->ehlo.features & EHLO_DSN) {
		if (env->ret)
			buf_append_str(cmd, env->ret == DSN_RET_FULL ? " RET=FULL" : " RET=HDRS");
		if (env->envid && env->envid[0]) {
			buf_append_str(cmd, " ENVID=");
			sess_xtext(env->envid, cmd);
		}
	}
	if (x->conperm && (x->ehlo.features & EHLO_CONPERM))
		buf_append_str(cmd, " CONPERM");
}

static void sess_rcpt_cmd(sess *x, size_t i, buf *cmd)
{
	const deliver_rcpt *r = &x->req->rcpt[i];

	buf_printf(cmd, "RCPT TO:<%s>", r->addr);
	if (x->ehlo.features & EHLO_DSN) {
		int n = r->q->notify;
		if (n & DSN_NOTIFY_NEVER)
			buf_append_str(cmd, " NOTIFY=NEVER");
		else if (n) {
			const char *sep = " NOTIFY=";
			if (n & DSN_NOTIFY_SUCCESS) { buf_printf(cmd, "%sSUCCESS", sep); sep = ","; }
			if (n & DSN_NOTIFY_FAILURE) { buf_printf(cmd, "%sFAILURE", sep); sep = ","; }
			if (n & DSN_NOTIFY_DELAY) buf_printf(cmd, "%sDELAY", sep);
		}
		const char *orcpt = r->q->orcpt;
		if (orcpt && orcpt[0]) {
			const char *semi = strchr(orcpt, ';');
			buf_append_str(cmd, " ORCPT=");
			if (semi) {
				buf_append(cmd, orcpt, (size_t)(semi - orcpt + 1));
				sess_xtext(semi + 1, cmd);
			} else {
				buf_append_str(cmd, "rfc822;");
				sess_xtext(orcpt, cmd);
			}
		} else {
			buf_append_str(cmd, " ORCPT=rfc822;");
			sess_xtext(r->q->addr, cmd);
		}
	}
	if (x->ask_conneg)
		buf_append_str(cmd, " CONNEG");
}

/* The message body: dot-stuffed, CRLF only, then ".". */
static int sess_body(sess *x)
{
	char in[65536];
	smtp_body enc;
	buf out;

	smtp_body_init(&enc);
	buf_init(&out, 0);
	off_t total = x->body_fd >= 0 ? x->body_len : x->req->qf->content_len;
	for (off_t off = 0; off < total; ) {
		ssize_t n = x->body_fd >= 0 ? pread(x->body_fd, in, sizeof in, off)
			: qf_read_content(x->req->qf, off, in, sizeof in);
		if (n <= 0) {
			buf_free(&out);
			return sess_fail(x, "4.3.0", "cannot read the queue file");
		}
		buf_reset(&out);
		if (smtp_body_chunk(&enc, in, (size_t)n, &out) < 0
		    || stream_write(x->s, out.data, out.len) < 0) {
			buf_free(&out);
			return sess_fail(x, "4.4.2", "lost connection with %s while sending message body", x->peer);
		}
		off += n;
	}
	buf_reset(&out);
	smtp_body_end(&enc, &out);
	int rc = stream_write(x->s, out.data, out.len);
	buf_free(&out);
	if (rc < 0)
		return sess_fail(x, "4.4.2", "lost connection with %s while sending message body", x->peer);
	return sess_flush(x, "sending message body");
}

static void sess_set(sess *x, size_t i, const char *cmd, const char *action)
{
	char said[1200], st[16];

	sess_said(x, cmd, said, sizeof said);
	sess_status(&x->r, st, sizeof st, x->r.code / 100 == 2 ? "0.0" : "0.0");
	if (x->r.code / 100 == 2) {
		/* success text as Postfix logs it: the bare reply */
		buf sum;
		buf_init(&sum, 4096);
		smtp_reply_summary(&x->r, &sum);
		deliver_req_status(x->req, i, st, buf_str(&sum), action);
		buf_free(&sum);
	} else {
		deliver_req_status(x->req, i, st, said, NULL);
	}
}

static int sess_rset(sess *x)
{
	sess_send(x, "RSET");
	if (sess_flush(x, "sending RSET") < 0)
		return -1;
	return sess_reply(x, x->cfg->reply_ms, "receiving the RSET reply");
}

/* Which recipients take part: want[i] = 1. caps (may be NULL) collects each
 * recipient's CONNEG answer. probe: stop after the RCPT replies (no DATA; RSET), to
 * learn capabilities before deciding what to send; RCPT refusals are final anyway.
 * Returns the accepted count, -1 on a session failure (why set). */
static int sess_transaction(sess *x, const int *want, char **caps, int probe)
{
	deliver_req *req = x->req;
	int *ok = xcalloc(req->n, sizeof *ok);
	size_t accepted = 0;
	int pipelined = x->cfg->pipelining && (x->ehlo.features & EHLO_PIPELINING);
	buf cmd;
	int code, rc = -1;

	buf_init(&cmd, 8192);
	sess_mail_cmd(x, &cmd);
	sess_send(x, "%s", buf_str(&cmd));
	if (!pipelined) {
		if (sess_flush(x, "sending MAIL FROM") < 0
		    || (code = sess_reply(x, x->cfg->reply_ms, "receiving the MAIL FROM reply")) < 0)
			goto out;
		if (code / 100 != 2) {
			sess_reply_fail(x, "MAIL FROM");
			goto out;
		}
	}
	for (size_t i = 0; i < req->n; i++) {
		if (!want[i])
			continue;
		buf_reset(&cmd);
		sess_rcpt_cmd(x, i, &cmd);
		sess_send(x, "%s", buf_str(&cmd));
		if (!pipelined) {
			if (sess_flush(x, "sending RCPT TO") < 0
			    || (code = sess_reply(x, x->cfg->reply_ms, "receiving the RCPT TO reply")) < 0)
				goto out;
			goto rcpt_reply;
		}
		continue;
rcpt_reply:
		if (code / 100 == 2) {
			ok[i] = 1;
			accepted++;
			if (caps) {
				buf c;
				buf_init(&c, FS_MAX_LEN);
				if (smtp_reply_conneg(&x->r, &c))
					caps[i] = xstrdup(buf_str(&c));
				buf_free(&c);
			}
		} else {
			sess_set(x, i, "RCPT TO", NULL);
		}
	}
	if (pipelined) {
		if (!probe)
			sess_send(x, "DATA");
		if (sess_flush(x, "sending MAIL/RCPT/DATA") < 0
		    || (code = sess_reply(x, x->cfg->reply_ms, "receiving the MAIL FROM reply")) < 0)
			goto out;
		int mail_ok = code / 100 == 2;
		if (!mail_ok)
			sess_reply_fail(x, "MAIL FROM");
		for (size_t i = 0; i < req->n; i++) {
			if (!want[i])
				continue;
			if ((code = sess_reply(x, x->cfg->reply_ms, "receiving the RCPT TO reply")) < 0)
				goto out;
			if (!mail_ok)
				continue;
			if (code / 100 == 2) {
				ok[i] = 1;
				accepted++;
				if (caps) {
					buf c;
					buf_init(&c, FS_MAX_LEN);
					if (smtp_reply_conneg(&x->r, &c))
						caps[i] = xstrdup(buf_str(&c));
					buf_free(&c);
				}
			} else {
				sess_set(x, i, "RCPT TO", NULL);
			}
		}
		if (probe) {
			if (mail_ok && sess_rset(x) >= 0)
				rc = (int)accepted;
			goto out;
		}
		if ((code = sess_reply(x, x->cfg->reply_ms, "receiving the DATA reply")) < 0)
			goto out;
		if (!mail_ok)
			goto out;	/* why set by the MAIL failure */
		if (accepted == 0) {
			rc = 0;		/* every RCPT refused; a 354 here gets an empty message end */
			if (code == 354) {
				stream_write(x->s, ".\r\n", 3);
				sess_flush(x, "ending DATA");
				sess_reply(x, x->cfg->reply_ms, "receiving the end of data reply");
			}
			goto out;
		}
	} else {
		if (accepted == 0) {
			rc = 0;
			goto out;
		}
		if (probe) {
			if (sess_rset(x) >= 0)
				rc = (int)accepted;
			goto out;
		}
		sess_send(x, "DATA");
		if (sess_flush(x, "sending DATA") < 0
		    || (code = sess_reply(x, x->cfg->reply_ms, "receiving the DATA reply")) < 0)
			goto out;
	}
	if (code != 354) {
		for (size_t i = 0; i < req->n; i++)
			if (ok[i])
				sess_set(x, i, "DATA", NULL);
		rc = 0;
		goto out;
	}
	if (sess_body(x) < 0
	    || (code = sess_reply(x, x->cfg->reply_ms, "receiving the end of data reply")) < 0)
		goto out;
	const char *action = (x->ehlo.features & EHLO_DSN) ? "passed" : "relayed";
	for (size_t i = 0; i < req->n; i++)
		if (ok[i])
			sess_set(x, i, "end of DATA", action);
	rc = (int)accepted;
out:
	buf_free(&cmd);
	free(ok);
	return rc;
}

/* Content-Features of the message (first one found in the head), or NULL. */
static fs_expr *sess_features(sess *x)
{
	char head[65536];
	ssize_t n = qf_read_content(x->req->qf, 0, head, sizeof head - 1);
	char err[128];

	if (n <= 0)
		return NULL;
	head[n] = 0;
	for (char *p = head; (p = strcasestr(p, "content-features:")) != NULL; p++) {
		if (p != head && p[-1] != '\n')
			continue;
		p += 17;
		buf v;
		buf_init(&v, FS_MAX_LEN);
		/* unfold: continuation lines start with white space */
		for (; *p; p++) {
			if (*p == '\r')
				continue;
			if (*p == '\n') {
				if (p[1] == ' ' || p[1] == '\t')
					continue;
				break;
			}
			buf_append_char(&v, *p);
		}
		fs_expr *e = fs_parse(buf_str(&v), v.len, err, sizeof err);
		buf_free(&v);
		return e;
	}
	return NULL;
}

/* After the RCPT replies with CONNEG: recipients whose capabilities the message does
 * not meet need a converted copy. No converter is wired in yet (codecd), so under
 * CONPERM they are refused with 5.6.3 when the hop does not offer CONPERM (RFC 4141
 * 4.1: a message under CONPERM is not sent where it cannot be handled), and get the
 * original otherwise; the others form their own transaction. Returns how many
 * recipients cannot take the original (0 = one transaction is fine). */
static size_t sess_conneg_split(sess *x, char **caps, int *fits)
{
	fs_expr *doc = sess_features(x);
	size_t bad = 0;
	char err[128];

	for (size_t i = 0; i < x->req->n; i++) {
		fits[i] = 1;
		if (caps[i] && !x->req->rcpt[i].conneg)
			x->req->rcpt[i].conneg = xstrdup(caps[i]);
		if (!caps[i] || !doc)
			continue;	/* nothing known: the original goes */
		fs_expr *c = fs_parse(caps[i], strlen(caps[i]), err, sizeof err);
		if (c == NULL) {
			msg_warn("%s: bad CONNEG expression from %s for %s: %s",
				 x->req->queue_id, x->peer, x->req->rcpt[i].addr, err);
			continue;
		}
		if (!fs_match(c, doc) && x->conperm && !(x->ehlo.features & EHLO_CONPERM)) {
			fits[i] = 0;
			bad++;
		}
		fs_free(c);
	}
	if (doc)
		fs_free(doc);
	return bad;
}

/* The message permits conversion (Content-Convert): learn every recipient's
 * capabilities first (probe transaction, RSET), then send the original to those it
 * fits (or who gave none), and to each set of recipients with the same capabilities
 * a copy converted by codecd, in a transaction of its own (RFC 4141 3.1). A failed
 * conversion refuses those recipients under CONPERM (the status codecd gave: 5.6.3,
 * 5.6.5, or 4.3.0 when it is unavailable); otherwise they get the original. */
static int sess_convert_groups(sess *x, const smtp_conv *conv, int *want, char **caps)
{
	deliver_req *req = x->req;
	int *orig = xcalloc(req->n, sizeof *orig), *grp = xcalloc(req->n, sizeof *grp);
	int rc = 0, any_orig = 0;

	if (sess_transaction(x, want, caps, 1) < 0) {
		free(orig);
		free(grp);
		return -1;
	}
	for (size_t i = 0; i < req->n; i++) {
		if (caps[i] && !req->rcpt[i].conneg)
			req->rcpt[i].conneg = xstrdup(caps[i]);
		if (!want[i] || req->rcpt[i].status[0])
			continue;	/* refused at RCPT: final */
		if (!caps[i] || smtp_conv_fits(conv, caps[i]))
			orig[i] = any_orig = 1;
	}
	for (size_t i = 0; i < req->n && rc == 0; i++) {
		if (!want[i] || req->rcpt[i].status[0] || orig[i] || grp[i])
			continue;
		/* everyone with the same capabilities shares one converted copy */
		for (size_t k = i; k < req->n; k++)
			if (grp[k] == 0 && want[k] && !req->rcpt[k].status[0] && !orig[k] && caps[k]
			    && strcmp(caps[k], caps[i]) == 0)
				grp[k] = 1;
		char st[16], why[512];
		off_t len = 0;
		int fd = smtp_conv_make(conv, caps[i], x->cfg->queue_dir, x->cfg->helo_name,
					x->cfg->codec_timeout, &len, st, sizeof st, why, sizeof why);
		if (fd < 0) {
			msg_info("%s: conversion for <%s> failed: %s %s", req->queue_id, req->rcpt[i].addr, st, why);
			for (size_t k = 0; k < req->n; k++) {
				if (!grp[k])
					continue;
				grp[k] = 2;	/* handled */
				if (x->conperm)
					deliver_req_status(req, k, st, why, NULL);
				else
					orig[k] = any_orig = 1;
			}
			continue;
		}
		msg_info("%s: converted for <%s> (%lld bytes) to match %s", req->queue_id,
			 req->rcpt[i].addr, (long long)len, x->peer);
		x->body_fd = fd;
		x->body_len = len;
		int *members = xcalloc(req->n, sizeof *members);
		for (size_t k = 0; k < req->n; k++)
			if (grp[k] == 1) {
				members[k] = 1;
				grp[k] = 2;
			}
		rc = sess_transaction(x, members, NULL, 0) < 0 ? -1 : 0;
		free(members);
		x->body_fd = -1;
		close(fd);
	}
	if (rc == 0 && any_orig)
		rc = sess_transaction(x, orig, NULL, 0) < 0 ? -1 : 0;
	free(orig);
	free(grp);
	return rc;
}

static int sess_deliver(sess *x)
{
	deliver_req *req = x->req;
	int *want = xcalloc(req->n, sizeof *want);
	int *fits = xcalloc(req->n, sizeof *fits);
	char **caps = NULL;
	int rc = 0;

	for (size_t i = 0; i < req->n; i++)
		want[i] = req->rcpt[i].status[0] == 0;
	x->conperm = qenv_attr(&req->qf->env, "conperm") != NULL;
	x->ask_conneg = (x->ehlo.features & EHLO_CONNEG) && (x->conperm || x->cfg->conneg);
	if (x->conperm && !(x->ehlo.features & (EHLO_CONPERM | EHLO_CONNEG))) {
		/* RFC 4141: under CONPERM, a hop with neither extension gets nothing */
		for (size_t i = 0; i < req->n; i++)
			if (want[i])
				deliver_req_status(req, i, "5.6.3", "Conversion required but not supported "
						   "(next hop offers neither CONPERM nor CONNEG)", NULL);
		goto out;
	}
	if (x->ask_conneg)
		caps = xcalloc(req->n, sizeof *caps);
	if (x->ask_conneg) {
		smtp_conv conv;
		if (smtp_conv_load(req->qf, &conv) == 0 && conv.permitted) {
			rc = sess_convert_groups(x, &conv, want, caps);
			smtp_conv_free(&conv);
			goto out;
		}
		smtp_conv_free(&conv);
	}
	if (!x->ask_conneg || !x->conperm || (x->ehlo.features & EHLO_CONPERM)) {
		/* the original goes to everyone; CONNEG answers are recorded for qmgr */
		rc = sess_transaction(x, want, caps, 0) < 0 ? -1 : 0;
		if (caps)
			for (size_t i = 0; i < req->n; i++)
				if (caps[i] && !req->rcpt[i].conneg)
					req->rcpt[i].conneg = xstrdup(caps[i]);
		goto out;
	}
	/* Under CONPERM to a hop without CONPERM: learn the capabilities first (probe
	 * transaction, then RSET), refuse those the message does not fit (5.6.3), and
	 * send to the rest in a transaction of their own. */
	if (sess_transaction(x, want, caps, 1) < 0) {
		rc = -1;
		goto out;
	}
	size_t bad = sess_conneg_split(x, caps, fits);
	for (size_t i = 0; i < req->n; i++) {
		if (!want[i] || req->rcpt[i].status[0])
			want[i] = 0;	/* refused at RCPT: final already */
		else if (!fits[i]) {
			want[i] = 0;
			deliver_req_status(req, i, "5.6.3", "Conversion required but not supported "
					   "(the recipient's CONNEG capabilities do not match the "
					   "content, and the next hop does not offer CONPERM)", NULL);
		}
	}
	if (bad)
		msg_info("%s: %zu recipient(s) split off: content does not match their CONNEG capabilities",
			 req->queue_id, bad);
	for (size_t i = 0; i < req->n; i++)
		if (want[i]) {
			rc = sess_transaction(x, want, NULL, 0) < 0 ? -1 : 0;
			break;
		}
out:
	if (caps)
		for (size_t i = 0; i < req->n; i++)
			free(caps[i]);
	free(caps);
	free(want);
	free(fits);
	return rc;
}

/* --- connections ------------------------------------------------------------------ */

static double sess_elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One cached connection per process (Postfix's connection cache on demand): after a
 * delivery the session stays open for smtp_connection_cache_time_limit; a request for
 * the same next hop within that time goes straight to MAIL on it instead of a new TCP
 * connection, greeting, EHLO, TLS and AUTH. When the time is up, SIGALRM shuts the
 * socket down (shutdown() is async-signal-safe); the next use then fails at once and
 * the stream is freed in normal context. */
static sess *conn_cache;
static char conn_cache_hop[300];
static volatile sig_atomic_t conn_cache_fd = -1;

static void conn_cache_alarm(int sig)
{
	(void)sig;
	if (conn_cache_fd >= 0)
		shutdown(conn_cache_fd, SHUT_RDWR);
}

static void sess_free(sess *x, int quit)
{
	if (quit && x->s) {
		sess_send(x, "QUIT");
		if (stream_flush(x->s) == 0)
			sess_reply(x, 5000, "receiving the QUIT reply");
	}
	buf_free(&x->line);
	smtp_reply_free(&x->r);
	if (x->s)
		stream_close(x->s);
	free(x);
}

static void conn_cache_drop(int quit)
{
	alarm(0);
	conn_cache_fd = -1;
	if (conn_cache) {
		char why[256], st[16];
		conn_cache->why = why;	/* a failing QUIT writes here, not into a request */
		conn_cache->whylen = sizeof why;
		conn_cache->wst = st;
		conn_cache->wstlen = sizeof st;
		sess_free(conn_cache, quit);
	}
	conn_cache = NULL;
}

static void conn_cache_put(sess *x, const char *nexthop)
{
	static int installed;

	conn_cache_drop(1);
	if (x->cfg->cache_time <= 0 || str_copy(conn_cache_hop, sizeof conn_cache_hop, nexthop) < 0) {
		sess_free(x, 1);
		return;
	}
	if (!installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = conn_cache_alarm;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		installed = 1;
	}
	x->req = NULL;
	conn_cache = x;
	conn_cache_fd = stream_fd(x->s);
	alarm((unsigned)x->cfg->cache_time);
}

void smtp_cache_close(void)
{
	conn_cache_drop(1);
}

static void sess_bind(sess *x, deliver_req *req, char *why, size_t whylen, char *wst, size_t wstlen)
{
	x->req = req;
	x->why = why;
	x->whylen = whylen;
	x->wst = wst;
	x->wstlen = wstlen;
}

/* After a delivery: every recipient decided and the conversation in order? */
static int sess_done(const deliver_req *req)
{
	for (size_t i = 0; i < req->n; i++)
		if (req->rcpt[i].status[0] == 0)
			return 0;
	return 1;
}

int smtp_session_cached(const smtp_cfg *cfg, deliver_req *req,
			char *why, size_t whylen, char *why_status, size_t stlen)
{
	sess *x = conn_cache;

	alarm(0);
	if (x == NULL || strcmp(conn_cache_hop, req->nexthop) != 0) {
		conn_cache_drop(1);
		return 1;
	}
	conn_cache = NULL;
	conn_cache_fd = -1;
	sess_bind(x, req, why, whylen, why_status, stlen);
	x->uses++;
	/* No RSET first: the last transaction ended cleanly, so the session is ready for
	 * MAIL. A connection the server has meanwhile closed (or answers 421) fails
	 * before any recipient is decided, and the caller simply opens a new one. */
	snprintf(req->relay, sizeof req->relay, "%s", x->peer);
	if (sess_deliver(x) < 0) {
		sess_free(x, 0);
		if (!sess_done(req))
			why[0] = 0;	/* a stale connection is no reason to report */
		return sess_done(req) ? 0 : 1;
	}
	conn_cache_put(x, req->nexthop);
	return sess_done(req) ? 0 : 1;
}

int smtp_session(const smtp_cfg *cfg, deliver_req *req, const smtp_target *t,
		 char *why, size_t whylen, char *why_status, size_t stlen)
{
	char err[512], port[16];
	sess *x;
	int fd, rc = 1, code, keep = 0;
	int wrapper = cfg->wrappermode || t->port == 465;

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	x = xcalloc(1, sizeof *x);
	x->body_fd = -1;
	x->cfg = cfg;
	x->t = *t;
	sess_bind(x, req, why, whylen, why_status, stlen);
	if (snprintf(x->peer, sizeof x->peer, "%s[%s]:%d", t->host, t->ip, t->port) >= (int)sizeof x->peer)
		x->peer[sizeof x->peer - 1] = 0;
	snprintf(port, sizeof port, "%d", t->port);
	if (cfg->connect_delay > 0)
		sleep((unsigned)cfg->connect_delay);
	if ((fd = net_connect(t->ip, port, cfg->connect_ms, err, sizeof err)) < 0) {
		snprintf(why, whylen, "connect to %s[%s]:%d: %s", t->host, t->ip, t->port,
			 strstr(err, ": ") ? strrchr(err, ':') + 2 : err);
		snprintf(why_status, stlen, "4.4.1");
		free(x);
		return 1;
	}
	x->s = stream_open(fd, cfg->helo_ms);
	smtp_reply_init(&x->r, cfg->line_limit, cfg->max_lines);
	buf_init(&x->line, cfg->line_limit + 1);
	snprintf(req->relay, sizeof req->relay, "%s", x->peer);
	if (wrapper && sess_tls(x, 1) != 0)
		goto done;
	if ((code = sess_reply(x, cfg->helo_ms, "receiving the initial server greeting")) < 0)
		goto done;
	if (code != 220) {
		char said[1200];
		sess_said(x, "the initial greeting", said, sizeof said);
		sess_status(&x->r, why_status, stlen, "0.0");
		snprintf(why, whylen, "host %s refused to talk to me: %s", x->peer, said);
		goto quit;
	}
	if (sess_ehlo(x) < 0)
		goto quit;
	int level_none = strcmp(cfg->tls_level, "none") == 0;
	int level_verify = strcmp(cfg->tls_level, "verify") == 0;
	if (!stream_is_tls(x->s) && !level_none) {
		if (x->ehlo.features & EHLO_STARTTLS) {
			int t_rc = sess_tls(x, 0);
			if (t_rc < 0)
				goto done;	/* the stream is not usable after a failed handshake */
			if (t_rc == 0 && sess_ehlo(x) < 0)	/* forget what came before TLS */
				goto quit;
		}
		if (level_verify && !stream_is_tls(x->s)) {
			snprintf(why, whylen, "TLS is required, but was not offered by host %s", x->peer);
			snprintf(why_status, stlen, "4.7.4");
			goto quit;
		}
	}
	if (sess_auth(x) < 0)
		goto quit;
	req->setup_s += sess_elapsed(&t0);	/* Postfix delays= "c": DNS..AUTH */
	if (sess_deliver(x) < 0)
		goto done;
	rc = 0;
	keep = 1;
quit:
	if (keep) {
		conn_cache_put(x, req->nexthop);
		x = NULL;
	} else {
		sess_free(x, 1);
		x = NULL;
	}
done:
	if (x)
		sess_free(x, 0);
	/* a session that decided nothing lets the caller try the next address */
	if (rc == 0 && !sess_done(req))
		rc = 1;
	return rc;
}
