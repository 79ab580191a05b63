/*
 * pop3.c - a POP3 client session (RFC 1939, 2449, 2595; APOP).
 *
 * Contract: see pop3.h. The server is untrusted: every line and listing is bounded,
 * UIDLs and message numbers are validated, RETR stops at a size cap, and credentials
 * are only sent over TLS unless plaintext is explicitly allowed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mail/pop3.h"
#include "util/msg.h"
#include "util/stream.h"

#define RETR_MAX_LINE (1024 * 1024)
#define POP3_DRAIN_MAX (64LL * 1024 * 1024)

struct pop3 {
	stream *s;
	tls_ctx *ctx;
	buf line;
	char timestamp[256];
	int has_stls, has_uidl, has_user, has_pipelining;
	int broken;		/* out of step with the server: only close */
	int tls;
};

/* err = what + detail (detail from the server is cut to 200 bytes). */
static void pop3_seterr(char *err, size_t errlen, const char *what, const char *detail)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%.200s", what, detail ? detail : "");
}

/* Read one response line (bounded); 1 for +OK, 0 for -ERR, -1 on error. */
static int pop3_reply(pop3 *p, char *err, size_t errlen)
{
	ssize_t n = stream_getline(p->s, &p->line, POP3_MAX_LINE - 2, NULL);

	if (n == STREAM_TOOLONG) {
		pop3_seterr(err, errlen, "server reply longer than 512 bytes", NULL);
		p->broken = 1;
		return -1;
	}
	if (n < 0) {
		p->broken = 1;
		pop3_seterr(err, errlen, n == STREAM_TIMEOUT ? "timeout reading server reply"
			    : "connection lost reading server reply", NULL);
		return -1;
	}
	if (strncmp(buf_str(&p->line), "+OK", 3) == 0)
		return 1;
	if (strncmp(buf_str(&p->line), "-ERR", 4) == 0)
		return 0;
	pop3_seterr(err, errlen, "bad server reply: ", buf_str(&p->line));
	p->broken = 1;
	return -1;
}

/* Queue "VERB[ ARG]" in the output buffer (sent by the next flush). */
static int pop3_send(pop3 *p, char *err, size_t errlen, const char *verb, const char *arg)
{
	if (stream_write(p->s, verb, strlen(verb)) < 0 ||
	    (arg && (stream_write(p->s, " ", 1) < 0 || stream_write(p->s, arg, strlen(arg)) < 0)) ||
	    stream_write(p->s, "\r\n", 2) < 0) {
		pop3_seterr(err, errlen, "connection lost sending command", NULL);
		return -1;
	}
	return 0;
}

int pop3_flush(pop3 *p, char *err, size_t errlen)
{
	if (stream_flush(p->s) < 0) {
		pop3_seterr(err, errlen, "connection lost sending command", NULL);
		return -1;
	}
	return 0;
}

/* Send "VERB[ ARG]" and read its status line. Returns as pop3_reply(). */
static int pop3_cmd(pop3 *p, char *err, size_t errlen, const char *verb, const char *arg)
{
	if (pop3_send(p, err, errlen, verb, arg) < 0 || pop3_flush(p, err, errlen) < 0)
		return -1;
	return pop3_reply(p, err, errlen);
}

/* Read a multi-line listing; fn gets each unstuffed line. At most max lines. */
static int pop3_multiline(pop3 *p, size_t max, int (*fn)(void *, const char *), void *ctx,
			  char *err, size_t errlen)
{
	size_t count = 0;

	for (;;) {
		ssize_t n = stream_getline(p->s, &p->line, POP3_MAX_LINE - 2, NULL);
		const char *l = buf_str(&p->line);

		if (n < 0) {
			pop3_seterr(err, errlen, n == STREAM_TOOLONG ? "listing line too long"
				    : "connection lost or timeout in a listing", NULL);
			return -1;
		}
		if (strcmp(l, ".") == 0)
			return 0;
		if (++count > max) {
			pop3_seterr(err, errlen, "listing longer than the limit", NULL);
			return -1;
		}
		if (l[0] == '.')
			l++;
		if (fn && fn(ctx, l) < 0) {
			pop3_seterr(err, errlen, "bad listing line: ", l);
			return -1;
		}
	}
}

int pop3_uidl_valid(const char *s, size_t len)
{
	if (len < 1 || len > POP3_MAX_UIDL)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int pop3_greeting_timestamp(const char *greeting, char *ts, size_t tslen)
{
	const char *lt = strchr(greeting, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	size_t len;

	if (!lt || !gt)
		return -1;
	len = (size_t)(gt - lt) + 1;
	if (len > 255 || len + 1 > tslen || !memchr(lt, '@', len))
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)lt[i] < 0x21 || (unsigned char)lt[i] > 0x7e)
			return -1;
	memcpy(ts, lt, len);
	ts[len] = 0;
	return 0;
}

int pop3_apop_digest(const char *timestamp, const char *password, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_md5(), NULL) &&
		 EVP_DigestUpdate(c, timestamp, strlen(timestamp)) &&
		 EVP_DigestUpdate(c, password, strlen(password)) &&
		 EVP_DigestFinal_ex(c, md, &mdlen) && mdlen == 16;

	EVP_MD_CTX_free(c);
	if (!ok)
		return -1;
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int pop3_capa_line(void *ctx, const char *l)
{
	pop3 *p = ctx;

	if (strcasecmp(l, "STLS") == 0)
		p->has_stls = 1;
	else if (strcasecmp(l, "UIDL") == 0)
		p->has_uidl = 1;
	else if (strcasecmp(l, "USER") == 0)
		p->has_user = 1;
	else if (strcasecmp(l, "PIPELINING") == 0)
		p->has_pipelining = 1;
	return 0;
}

/* CAPA is optional (RFC 2449): a -ERR leaves the defaults. */
static int pop3_capa(pop3 *p, char *err, size_t errlen)
{
	int r;

	p->has_stls = p->has_uidl = p->has_user = p->has_pipelining = 0;
	r = pop3_cmd(p, err, errlen, "CAPA", NULL);
	if (r < 0)
		return -1;
	if (r == 0) {
		p->has_uidl = p->has_user = 1;	/* assume the RFC 1939 optional commands */
		return 0;
	}
	return pop3_multiline(p, 1000, pop3_capa_line, p, err, errlen);
}

static int pop3_starttls(pop3 *p, const pop3_opts *o, char *err, size_t errlen)
{
	char why[256];

	if (!p->ctx && !(p->ctx = tls_ctx_client(o->ca_file, NULL, why, sizeof(why)))) {
		pop3_seterr(err, errlen, "TLS set-up failed: ", why);
		return -1;
	}
	if (stream_pending(p->s))
		msg_warn("pop3: %s: discarding %zu bytes sent before TLS (possible injection)",
			 o->host, stream_pending(p->s));
	if (stream_starttls_client(p->s, p->ctx, o->host, o->verify ? o->verify : "may", why,
				   sizeof(why)) < 0) {
		pop3_seterr(err, errlen, "", why);	/* why says "TLS handshake failed: ..." */
		return -1;
	}
	p->tls = 1;
	return 0;
}

static int pop3_auth(pop3 *p, const pop3_opts *o, char *err, size_t errlen)
{
	int r;

	if (!p->tls && !o->allow_plaintext_auth) {
		pop3_seterr(err, errlen, "refusing to send credentials without TLS", NULL);
		return -1;
	}
	if (o->apop) {
		char digest[33];
		buf cmd;

		if (!p->timestamp[0]) {
			pop3_seterr(err, errlen, "APOP requested but the greeting has no valid timestamp", NULL);
			return -1;
		}
		if (pop3_apop_digest(p->timestamp, o->password, digest) < 0) {
			pop3_seterr(err, errlen, "MD5 not available for APOP", NULL);
			return -1;
		}
		buf_init(&cmd, 512);
		if (buf_printf(&cmd, "APOP %s %s", o->user, digest) < 0) {
			buf_free(&cmd);
			pop3_seterr(err, errlen, "user name too long", NULL);
			return -1;
		}
		r = pop3_cmd(p, err, errlen, buf_str(&cmd), NULL);
		buf_free(&cmd);
	} else {
		r = pop3_cmd(p, err, errlen, "USER", o->user);
		if (r > 0)
			r = pop3_cmd(p, err, errlen, "PASS", o->password);
	}
	if (r == 0)
		pop3_seterr(err, errlen, "login failed: ", buf_str(&p->line));
	return r > 0 ? 0 : -1;
}

static int pop3_user_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 255)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || *s == 0x7f)
			return 0;
	return 1;
}

pop3 *pop3_open(const pop3_opts *o, char *err, size_t errlen)
{
	char why[256];
	int fd, r;
	pop3 *p;

	if (!pop3_user_ok(o->user) || !o->password || strpbrk(o->password, "\r\n")) {
		pop3_seterr(err, errlen, "bad user name or password", NULL);
		return NULL;
	}
	if ((fd = net_connect(o->host, o->port, o->timeout_ms, why, sizeof(why))) < 0) {
		pop3_seterr(err, errlen, "connect failed: ", why);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	buf_init(&p->line, RETR_MAX_LINE + 16);
	p->s = stream_open(fd, o->timeout_ms);
	if (o->tls == POP3_TLS_IMPLICIT && pop3_starttls(p, o, err, errlen) < 0)
		goto fail;
	if ((r = pop3_reply(p, err, errlen)) <= 0) {
		if (r == 0)
			pop3_seterr(err, errlen, "server refused: ", buf_str(&p->line));
		goto fail;
	}
	if (pop3_greeting_timestamp(buf_str(&p->line), p->timestamp, sizeof(p->timestamp)) < 0)
		p->timestamp[0] = 0;
	if (pop3_capa(p, err, errlen) < 0)
		goto fail;
	if (o->tls == POP3_TLS_STLS) {
		if (!p->has_stls) {
			pop3_seterr(err, errlen, "server does not offer STLS", NULL);
			goto fail;
		}
		if ((r = pop3_cmd(p, err, errlen, "STLS", NULL)) <= 0) {
			if (r == 0)
				pop3_seterr(err, errlen, "STLS refused: ", buf_str(&p->line));
			goto fail;
		}
		if (pop3_starttls(p, o, err, errlen) < 0 || pop3_capa(p, err, errlen) < 0)
			goto fail;
	}
	if (pop3_auth(p, o, err, errlen) < 0)
		goto fail;
	return p;
fail:
	pop3_close(p);
	return NULL;
}

/* Parse "num rest" with num in 1..max; rest returned. */
static int pop3_parse_num(const char *l, long max, long *num, const char **rest)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*l))
		return -1;
	errno = 0;
	v = strtol(l, &end, 10);
	if (errno || v < 1 || v > max || *end != ' ')
		return -1;
	*num = v;
	*rest = end + 1;
	return 0;
}

typedef struct list_ctx {
	pop3_msg *msgs;
	size_t n;
	long count;
} list_ctx;

static int pop3_list_line(void *vctx, const char *l)
{
	list_ctx *c = vctx;
	const char *rest;
	char *end;
	long num;
	long long size;

	if (pop3_parse_num(l, c->count, &num, &rest) < 0)
		return 0;	/* ignore bad entries; the message stays unlisted */
	errno = 0;
	size = strtoll(rest, &end, 10);
	if (errno || size < 0 || (*end && *end != ' '))
		c->msgs[num - 1].unsafe = 1;
	else
		c->msgs[num - 1].size = size;
	c->msgs[num - 1].num = num;
	return 0;
}

static int pop3_uidl_line(void *vctx, const char *l)
{
	list_ctx *c = vctx;
	const char *rest;
	long num;
	pop3_msg *m;

	if (pop3_parse_num(l, c->count, &num, &rest) < 0)
		return 0;
	m = &c->msgs[num - 1];
	if (!pop3_uidl_valid(rest, strlen(rest)) || m->uidl[0]) {
		m->unsafe = 1;		/* bad or duplicate entry */
		return 0;
	}
	memcpy(m->uidl, rest, strlen(rest) + 1);
	return 0;
}

int pop3_list(pop3 *p, pop3_msg **msgs, size_t *n, char *err, size_t errlen)
{
	list_ctx c = { NULL, 0, 0 };
	long long total;
	int r;

	*msgs = NULL;
	*n = 0;
	if ((r = pop3_cmd(p, err, errlen, "STAT", NULL)) <= 0)
		return -1;
	if (sscanf(buf_str(&p->line), "+OK %ld %lld", &c.count, &total) != 2 || c.count < 0 ||
	    c.count > POP3_MAX_MESSAGES) {
		pop3_seterr(err, errlen, "bad or too large STAT reply: ", buf_str(&p->line));
		return -1;
	}
	if (c.count == 0)
		return 0;
	c.msgs = xcalloc((size_t)c.count, sizeof(*c.msgs));
	if (pop3_cmd(p, err, errlen, "LIST", NULL) <= 0 ||
	    pop3_multiline(p, (size_t)c.count, pop3_list_line, &c, err, errlen) < 0)
		goto fail;
	if (p->has_uidl) {
		r = pop3_cmd(p, err, errlen, "UIDL", NULL);
		if (r < 0 || (r > 0 && pop3_multiline(p, (size_t)c.count, pop3_uidl_line, &c, err,
						       errlen) < 0))
			goto fail;
	}
	for (long i = 0; i < c.count; i++)
		if (c.msgs[i].num == 0) {
			c.msgs[i].num = i + 1;
			c.msgs[i].unsafe = 1;	/* missing from LIST */
		}
	*msgs = c.msgs;
	*n = (size_t)c.count;
	return 0;
fail:
	free(c.msgs);
	return -1;
}

int pop3_send_num(pop3 *p, const char *verb, long num, char *err, size_t errlen)
{
	char numbuf[32];

	snprintf(numbuf, sizeof(numbuf), "%ld", num);
	return pop3_send(p, err, errlen, verb, numbuf);
}

int pop3_retr(pop3 *p, long num, long long max,
	      int (*sink)(void *ctx, const char *data, size_t len), void *ctx,
	      char *err, size_t errlen)
{
	if (pop3_send_num(p, "RETR", num, err, errlen) < 0 || pop3_flush(p, err, errlen) < 0)
		return -1;
	return pop3_retr_read(p, max, sink, ctx, err, errlen);
}

/* One message line, dot-unstuffed, into out with CRLF: NULs dropped, a bare CR made a
 * line end. The common line has neither and is copied whole. */
static void pop3_line_out(const char *l, size_t len, buf *out)
{
	buf_reset(out);
	if (len && l[0] == '.')
		l++, len--;
	if (!memchr(l, 0, len) && !memchr(l, '\r', len)) {
		buf_append(out, l, len);
	} else {
		for (size_t i = 0; i < len; i++) {
			if (l[i] == 0)
				continue;
			if (l[i] == '\r')
				buf_append(out, "\r\n", 2);
			else
				buf_append_char(out, l[i]);
		}
	}
	buf_append(out, "\r\n", 2);
}

int pop3_retr_read(pop3 *p, long long max,
		   int (*sink)(void *ctx, const char *data, size_t len), void *ctx,
		   char *err, size_t errlen)
{
	long long total = 0, drained = 0;
	const char *failed = NULL;
	buf out;
	int r, rc = -1;

	if ((r = pop3_reply(p, err, errlen)) <= 0) {
		if (r == 0)
			pop3_seterr(err, errlen, "RETR refused: ", buf_str(&p->line));
		return -1;
	}
	buf_init(&out, 0);
	for (;;) {
		int bare_lf = 0;
		ssize_t n = stream_getline(p->s, &p->line, RETR_MAX_LINE, &bare_lf);
		const char *l = buf_str(&p->line);

		if (n < 0) {
			pop3_seterr(err, errlen, n == STREAM_TOOLONG ? "message line over 1 MB"
				    : "connection lost or timeout during RETR", NULL);
			p->broken = 1;
			goto done;
		}
		/* only CRLF "." CRLF ends the message: a "." ended by a bare LF is data, so
		 * the server cannot end a message early (or smuggle a second one) that way */
		if (n == 1 && l[0] == '.' && !bare_lf)
			break;
		if (failed) {
			/* read the rest so the session stays in step, within a bound */
			if ((drained += n) > POP3_DRAIN_MAX) {
				pop3_seterr(err, errlen, failed, "; rest of the message too large to skip");
				p->broken = 1;
				goto done;
			}
			continue;
		}
		pop3_line_out(l, (size_t)n, &out);
		total += (long long)out.len;
		if (total > max)
			failed = "message larger than the size limit";
		else if (sink(ctx, out.data, out.len) < 0)
			failed = "could not store the message";
	}
	if (failed)
		pop3_seterr(err, errlen, failed, NULL);
	else
		rc = 0;
done:
	buf_free(&out);
	return rc;
}

int pop3_broken(const pop3 *p)
{
	return p->broken;
}

int pop3_dele(pop3 *p, long num, char *err, size_t errlen)
{
	if (pop3_send_num(p, "DELE", num, err, errlen) < 0 || pop3_flush(p, err, errlen) < 0)
		return -1;
	return pop3_dele_read(p, err, errlen);
}

int pop3_dele_read(pop3 *p, char *err, size_t errlen)
{
	int r = pop3_reply(p, err, errlen);

	if (r == 0)
		pop3_seterr(err, errlen, "DELE refused: ", buf_str(&p->line));
	return r > 0 ? 0 : -1;
}

int pop3_pipelining(const pop3 *p)
{
	return p->has_pipelining;
}

int pop3_quit(pop3 *p, char *err, size_t errlen)
{
	int r = pop3_cmd(p, err, errlen, "QUIT", NULL);

	if (r == 0)
		pop3_seterr(err, errlen, "QUIT refused: ", buf_str(&p->line));
	return r > 0 ? 0 : -1;
}

void pop3_close(pop3 *p)
{
	if (!p)
		return;
	if (p->s)
		stream_close(p->s);
	if (p->ctx)
		tls_ctx_free(p->ctx);
	buf_free(&p->line);
	free(p);
}

const char *pop3_tls_info(const pop3 *p)
{
	return p->tls ? stream_tls_info(p->s) : NULL;
}

int pop3_login_only(const pop3_opts *o, char *err, size_t errlen)
{
	pop3 *p = pop3_open(o, err, errlen);
	int r;

	if (!p)
		return -1;
	r = pop3_quit(p, err, errlen);
	pop3_close(p);
	return r;
}
