/*
 * fetch.c - one poll of one POP3 mailbox into the queue.
 *
 * Contract: see fetch.h. The fetched message is stored as received (CRLF lines),
 * behind a Received: header of ours; its envelope sender is the Return-Path address
 * (else From), its recipient the mailbox's deliver_to, its origin "pop".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/queue.h"
#include "fetch.h"
#include "util/buf.h"
#include "util/msg.h"

#define HEAD_MAX (256 * 1024)

typedef struct collector {
	const mailbox *mb;
	const char *uidl;
	const char *tls;
	const char *queue_dir;
	qwriter *w;
	buf head;		/* header section until the blank line (or HEAD_MAX) */
	int head_done;
	long long size;
	char err[256];
} collector;

/* Find header NAME (case-insensitive) in a CRLF header block; copy its first line. */
static int header_value(const buf *h, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p = buf_str(h), *end = p + h->len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (len > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t vlen = len - nlen - 1;

			while (vlen && (*v == ' ' || *v == '\t'))
				v++, vlen--;
			while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
				vlen--;
			return str_ncopy(out, outlen, v, vlen);
		}
		p = eol ? eol + 1 : end;
	}
	return -1;
}

/* The address inside <...>, or the bare address; "" when none is usable. */
static void extract_addr(const char *v, char *out, size_t outlen)
{
	const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	const char *s = v;
	size_t len = strlen(v);

	out[0] = 0;
	if (lt && gt) {
		s = lt + 1;
		len = (size_t)(gt - lt - 1);
	}
	if (len == 0 || len > 254 || !memchr(s, '@', len))
		return;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == '<' || s[i] == '>' || s[i] == '"' ||
		    (unsigned char)s[i] >= 0x7f)
			return;
	str_ncopy(out, outlen, s, len);
}

static int collector_start(collector *c)
{
	char hv[1024], sender[256] = "", date[64], why[256];
	qenvelope env;
	struct timeval tv;
	buf rcv;
	int rc = -1;

	int has_return_path = header_value(&c->head, "Return-Path", hv, sizeof(hv)) == 0;

	/* Return-Path: <> means a bounce: keep the null sender, never fall back to From */
	if (has_return_path)
		extract_addr(hv, sender, sizeof(sender));
	else if (header_value(&c->head, "From", hv, sizeof(hv)) == 0)
		extract_addr(hv, sender, sizeof(sender));
	if (!(c->w = qw_create(c->queue_dir, why, sizeof(why)))) {
		snprintf(c->err, sizeof(c->err), "queue: %.200s", why);
		return -1;
	}
	gettimeofday(&tv, NULL);
	qenv_init(&env);
	env.sender = sender;
	env.arrival_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	env.origin = "pop";
	env.client_name = (char *)c->mb->server;
	env.protocol = c->tls ? "POP3S" : "POP3";
	env.auth_user = (char *)c->mb->user;
	buf_init(&rcv, 4096);
	if (qenv_add_rcpt(&env, c->mb->deliver_to, NULL, 0) < 0 ||
	    qenv_add_attr(&env, "pop_mailbox", c->mb->name) < 0 ||
	    qenv_add_attr(&env, "pop_uidl", c->uidl) < 0)
		goto done;
	{
		struct tm tm;
		time_t now = tv.tv_sec;

		localtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	}
	buf_printf(&rcv, "Received: from %s by %s (faxpost popd-client)\r\n\twith %s id %s"
		   " for <%s>; %s\r\n", c->mb->server, conf_str("myhostname"),
		   c->tls ? "POP3S" : "POP3", qw_id(c->w), c->mb->deliver_to, date);
	if (qw_envelope(c->w, &env) < 0 || qw_content(c->w, rcv.data, rcv.len) < 0 ||
	    qw_content(c->w, c->head.data, c->head.len) < 0)
		goto done;
	rc = 0;
done:
	if (rc < 0)
		snprintf(c->err, sizeof(c->err), "queue write failed");
	/* the envelope borrowed our strings: free only what qenv_add_* allocated */
	env.sender = NULL;
	env.origin = NULL;
	env.client_name = NULL;
	env.protocol = NULL;
	env.auth_user = NULL;
	qenv_free(&env);
	buf_free(&rcv);
	return rc;
}

static int collector_sink(void *ctx, const char *data, size_t len)
{
	collector *c = ctx;

	c->size += (long long)len;
	if (c->head_done)
		return qw_content(c->w, data, len);
	if (buf_append(&c->head, data, len) < 0)
		return -1;
	/* a blank line ends the header section; a huge header is cut short there too */
	if ((len == 2 && data[0] == '\r') || c->head.len >= HEAD_MAX) {
		c->head_done = 1;
		return collector_start(c);
	}
	return 0;
}

static void collector_free(collector *c)
{
	if (c->w) {
		qw_abort(c->w);
		qw_free(c->w);
		c->w = NULL;
	}
	buf_free(&c->head);
}

/* RETR one message into the queue; returns 0 with qid filled, -1 on failure. */
static int fetch_one(pop3 *p, const mailbox *mb, const pop3_msg *m, const char *queue_dir,
		     char *qid, size_t qidlen, long long *size, char *err, size_t errlen)
{
	collector c;
	long long cap = m->size * 2 + 65536;
	char why[256];

	if (cap > mb->size_limit + 65536)
		cap = mb->size_limit + 65536;
	memset(&c, 0, sizeof(c));
	c.mb = mb;
	c.uidl = m->uidl;
	c.tls = pop3_tls_info(p);
	c.queue_dir = queue_dir;
	buf_init(&c.head, HEAD_MAX + 4096);
	if (pop3_retr(p, m->num, cap, collector_sink, &c, err, errlen) < 0) {
		if (c.err[0])
			snprintf(err, errlen, "%s", c.err);
		collector_free(&c);
		return -1;
	}
	if (!c.head_done && collector_start(&c) < 0) {
		snprintf(err, errlen, "%s", c.err);
		collector_free(&c);
		return -1;
	}
	if (qw_commit(c.w, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "queue commit failed: %.200s", why);
		collector_free(&c);
		return -1;
	}
	str_copy(qid, qidlen, qw_id(c.w));
	*size = c.size;
	qw_free(c.w);
	c.w = NULL;
	collector_free(&c);
	return 0;
}

static int cmp_uidl(const void *a, const void *b)
{
	return strcmp(((const pop3_msg *)a)->uidl, ((const pop3_msg *)b)->uidl);
}

/* Two messages with the same UIDL cannot be told apart: mark both unsafe. */
static void mark_duplicate_uidls(pop3_msg *msgs, size_t n)
{
	pop3_msg *sorted;

	if (n < 2)
		return;
	sorted = xcalloc(n, sizeof(*sorted));
	memcpy(sorted, msgs, n * sizeof(*msgs));
	qsort(sorted, n, sizeof(*sorted), cmp_uidl);
	for (size_t i = 1; i < n; i++)
		if (sorted[i].uidl[0] && !strcmp(sorted[i].uidl, sorted[i - 1].uidl)) {
			msgs[sorted[i].num - 1].unsafe = 1;
			msgs[sorted[i - 1].num - 1].unsafe = 1;
		}
	free(sorted);
}

static void prune_gone(uidl_db *u, const mailbox *mb, const pop3_msg *msgs, size_t n)
{
	const char **keep = xcalloc(n ? n : 1, sizeof(*keep));
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (msgs[i].uidl[0])
			keep[k++] = msgs[i].uidl;
	uidl_prune(u, mb->name, keep, k);
	free(keep);
}

/* Handle one listed message: skip, delete an old one, or fetch a new one. */
static void fetch_message(pop3 *p, const mailbox *mb, const pop3_msg *m, uidl_db *u,
			  const char *queue_dir, fetch_stats *st)
{
	char why[256], qid[QUEUE_ID_LEN + 1];
	long long size = 0;
	int seen;

	if (m->unsafe || !m->uidl[0]) {
		msg_warn("pop %s: message %ld has no usable UIDL: left on the server", mb->name, m->num);
		st->skipped++;
		return;
	}
	if ((seen = uidl_seen(u, mb->name, m->uidl)) < 0) {
		st->skipped++;
		return;
	}
	if (seen) {
		if (!mb->keep && pop3_dele(p, m->num, why, sizeof(why)) == 0)
			st->deleted++;
		return;
	}
	if (m->size > mb->size_limit) {
		msg_warn("pop %s: message %ld (uidl %s) is %lld bytes, over the limit of %lld: "
			 "left on the server", mb->name, m->num, m->uidl, m->size, mb->size_limit);
		st->skipped++;
		return;
	}
	if (fetch_one(p, mb, m, queue_dir, qid, sizeof(qid), &size, why, sizeof(why)) < 0) {
		msg_warn("pop %s: message %ld (uidl %s) not fetched: %s", mb->name, m->num, m->uidl, why);
		st->skipped++;
		return;
	}
	msg_info("%s: client=%s, pop=%s, uidl=%s, size=%lld, to=<%s>", qid, mb->server, mb->name,
		 m->uidl, size, mb->deliver_to);
	queue_trigger(queue_dir, TRIGGER_NEW);
	st->fetched++;
	st->bytes += size;
	if (uidl_record(u, mb->name, m->uidl, qid) < 0) {
		/* queued but not recorded: never DELE; a later poll may fetch it again */
		msg_warn("%s: pop %s: could not record uidl %s: the message stays on the server and"
			 " may be fetched twice", qid, mb->name, m->uidl);
		return;
	}
	if (!mb->keep && pop3_dele(p, m->num, why, sizeof(why)) == 0)
		st->deleted++;
}

int fetch_mailbox(const mailbox *mb, const char *password, uidl_db *u, const char *queue_dir,
		  fetch_stats *st, fetch_progress_fn progress, void *ctx, char *err, size_t errlen)
{
	pop3_opts o;
	pop3_msg *msgs = NULL;
	size_t n = 0, max = (size_t)conf_int("pop_max_per_poll");
	pop3 *p;

	memset(st, 0, sizeof(*st));
	memset(&o, 0, sizeof(o));
	o.host = mb->server;
	o.port = mb->port;
	o.tls = mb->tls;
	o.verify = mb->verify;
	o.ca_file = *conf_str("pop_tls_ca_file") ? conf_str("pop_tls_ca_file") : NULL;
	o.user = mb->user;
	o.password = password;
	o.apop = mb->apop;
	o.allow_plaintext_auth = mb->allow_plaintext;
	o.timeout_ms = (int)(conf_time("pop_timeout") * 1000);
	if (mb->connect_delay > 0)
		sleep((unsigned)mb->connect_delay);
	if (!(p = pop3_open(&o, err, errlen)))
		return -1;
	if (pop3_list(p, &msgs, &n, err, errlen) < 0) {
		pop3_close(p);
		return -1;
	}
	st->listed = (long)n;
	mark_duplicate_uidls(msgs, n);
	if (mb->keep)
		prune_gone(u, mb, msgs, n);
	for (size_t i = 0; i < n && (size_t)st->fetched < max; i++) {
		fetch_message(p, mb, &msgs[i], u, queue_dir, st);
		if (progress)
			progress(ctx, mb, st);
	}
	free(msgs);
	st->quit_ok = pop3_quit(p, err, errlen) == 0;
	if (!st->quit_ok)
		msg_warn("pop %s: QUIT failed (%s): deletions are undone; the next poll deletes"
			 " them without fetching again", mb->name, err);
	msg_info("pop %s: server=%s:%s%s%s, listed=%ld, fetched=%ld, skipped=%ld, deleted=%ld,"
		 " bytes=%lld", mb->name, mb->server, mb->port, pop3_tls_info(p) ? ", tls=" : "",
		 pop3_tls_info(p) ? pop3_tls_info(p) : "", st->listed, st->fetched, st->skipped,
		 st->deleted, st->bytes);
	pop3_close(p);
	return 0;
}
