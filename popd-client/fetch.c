/*
 * fetch.c - one poll of one POP3 mailbox into the queue.
 *
 * Contract: see fetch.h. Messages are fetched in batches: RETRs pipelined when the
 * server offers PIPELINING, the batch's files fsynced in parallel, their UIDLs recorded
 * (one DB sync) before they are published (one directory fsync), and only then DELE.
 * A crash between record and publish leaves complete files in tmp/ that uidl_recover()
 * publishes at the next start. The fetched message is stored as received (CRLF lines),
 * behind a Received: header of ours; its envelope sender is the Return-Path address
 * (else From), its recipient the mailbox's deliver_to, its origin "pop".
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/queue.h"
#include "mail/queue_crash.h"
#include "fetch.h"
#include "util/buf.h"
#include "util/msg.h"

#define HEAD_MAX (256 * 1024)
#define BATCH_MAX 256		/* messages committed together (one dir fsync, one DB sync) */
#define RETR_WINDOW 64		/* RETRs in flight when the server offers PIPELINING */
#define SYNC_THREADS 16		/* parallel fdatasync of a small batch's files */

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


typedef struct fetch_item {
	const pop3_msg *m;
	collector c;
	int ok;
} fetch_item;

typedef struct fetch_run {
	pop3 *p;
	const mailbox *mb;
	uidl_db *u;
	const char *queue_dir;
	fetch_stats *st;
	fetch_progress_fn progress;
	void *ctx;
	int window;		/* commands in flight */
} fetch_run;

/* Read one RETR reply into the item's queue file (finished, not yet synced). */
static void fetch_read(fetch_run *r, fetch_item *it)
{
	long long cap = it->m->size * 2 + 65536;
	char why[256];

	if (cap > r->mb->size_limit + 65536)
		cap = r->mb->size_limit + 65536;
	memset(&it->c, 0, sizeof(it->c));
	it->c.mb = r->mb;
	it->c.uidl = it->m->uidl;
	it->c.tls = pop3_tls_info(r->p);
	it->c.queue_dir = r->queue_dir;
	buf_init(&it->c.head, HEAD_MAX + 4096);
	it->ok = pop3_retr_read(r->p, cap, collector_sink, &it->c, why, sizeof(why)) == 0 &&
		 (it->c.head_done || collector_start(&it->c) == 0) && qw_finish(it->c.w) == 0;
	if (!it->ok) {
		msg_warn("pop %s: message %ld (uidl %s) not fetched: %s", r->mb->name, it->m->num,
			 it->m->uidl, it->c.err[0] ? it->c.err : why);
		collector_free(&it->c);
		r->st->skipped++;
	}
}

typedef struct sync_job {
	fetch_item *items;
	size_t n;
	atomic_size_t next;
} sync_job;

static void *sync_worker(void *arg)
{
	sync_job *j = arg;
	size_t i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->n)
		if (j->items[i].ok && qw_sync(j->items[i].c.w) < 0)
			j->items[i].ok = 0;
	return NULL;
}

/* fdatasync every file of the batch, several at a time: the journal commits of
 * concurrent syncs overlap. (One syncfs(2) per batch was tried and was slower: it also
 * flushes everybody else's dirty data.) */
static void fetch_sync_all(fetch_item *items, size_t n)
{
	pthread_t tid[SYNC_THREADS];
	sync_job j = { items, n, 0 };
	size_t threads = n < SYNC_THREADS ? n : SYNC_THREADS, started = 0;

	for (size_t t = 1; t < threads; t++)
		if (pthread_create(&tid[started], NULL, sync_worker, &j) == 0)
			started++;
	sync_worker(&j);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
}

/* Make the batch durable: files synced, UIDLs recorded (one DB sync), then published
 * (one directory fsync). Returns 1 when the UIDLs are durable (DELE allowed). */
static int fetch_commit(fetch_run *r, fetch_item *items, size_t n, long *skipped)
{
	int recorded;

	fetch_sync_all(items, n);
	for (size_t i = 0; i < n; i++)
		if (items[i].ok && uidl_put(r->u, r->mb->name, items[i].m->uidl,
					    qw_id(items[i].c.w)) < 0)
			items[i].ok = 0;
	recorded = uidl_sync(r->u) == 0;
	queue_crashpoint("pop_after_record");	/* recorded, not yet published */
	for (size_t i = 0; i < n; i++) {
		if (!items[i].ok)
			continue;
		if (qw_publish(items[i].c.w) < 0) {
			/* never leave a record naming a message that is not in the queue */
			uidl_forget(r->u, r->mb->name, items[i].m->uidl);
			msg_warn("pop %s: uidl %s: queue file not published: %s", r->mb->name,
				 items[i].m->uidl, strerror(errno));
			items[i].ok = 0;
			(*skipped)++;
			continue;
		}
	}
	if (queue_sync_dir(r->queue_dir, Q_INCOMING) < 0) {
		msg_warn("pop %s: fsync of the incoming folder failed: %s; nothing deleted",
			 r->mb->name, strerror(errno));
		recorded = 0;
	}
	if (!recorded)
		msg_warn("pop %s: UIDLs not durable: messages stay on the server and may be"
			 " fetched again", r->mb->name);
	return recorded;
}

static void fetch_report(fetch_run *r, fetch_item *items, size_t n)
{
	int any = 0;

	for (size_t i = 0; i < n; i++) {
		if (!items[i].ok)
			continue;
		msg_info("%s: client=%s, pop=%s, uidl=%s, size=%lld, to=<%s>", qw_id(items[i].c.w),
			 r->mb->server, r->mb->name, items[i].m->uidl, items[i].c.size,
			 r->mb->deliver_to);
		r->st->fetched++;
		r->st->bytes += items[i].c.size;
		any = 1;
		if (r->progress)
			r->progress(r->ctx, r->mb, r->st);
	}
	if (any)
		queue_trigger(r->queue_dir, TRIGGER_NEW);
}

/* DELE the given messages, pipelined when the server allows it. */
static void fetch_dele(fetch_run *r, const long *nums, size_t n)
{
	char why[256];
	size_t sent = 0, done = 0;

	while (done < n && !pop3_broken(r->p)) {
		while (sent < n && sent - done < (size_t)r->window)
			if (pop3_send_num(r->p, "DELE", nums[sent++], why, sizeof(why)) < 0)
				return;
		if (pop3_flush(r->p, why, sizeof(why)) < 0)
			return;
		for (; done < sent; done++) {
			if (pop3_dele_read(r->p, why, sizeof(why)) == 0)
				r->st->deleted++;
			else if (pop3_broken(r->p))
				return;
		}
	}
}

/* One batch: its messages, then (after the commit) whether DELE is allowed. */
typedef struct fetch_batch {
	fetch_item items[BATCH_MAX];
	size_t n;
	int recorded;		/* UIDLs durable: DELE allowed */
	long skipped;		/* counted by the commit thread, merged after the join */
	fetch_run *r;
	pthread_t thread;
	int running;
} fetch_batch;

/* RETR the batch's messages with up to window requests in flight. */
static void batch_read(fetch_run *r, fetch_batch *b, const pop3_msg **todo, size_t n)
{
	size_t sent = 0, got = 0;
	char why[256];

	memset(b->items, 0, sizeof(b->items));
	b->n = 0;
	b->recorded = 0;
	b->skipped = 0;
	b->r = r;
	for (size_t i = 0; i < n; i++)
		b->items[i].m = todo[i];
	while (got < n && !pop3_broken(r->p)) {
		while (sent < n && sent - got < (size_t)r->window)
			if (pop3_send_num(r->p, "RETR", b->items[sent++].m->num, why, sizeof(why)) < 0)
				break;
		if (pop3_flush(r->p, why, sizeof(why)) < 0)
			break;
		for (; got < sent && !pop3_broken(r->p); got++)
			fetch_read(r, &b->items[got]);
	}
	b->n = got;
}

static void *batch_commit_thread(void *arg)
{
	fetch_batch *b = arg;

	b->recorded = fetch_commit(b->r, b->items, b->n, &b->skipped);
	return NULL;
}

/* Commit on a thread, so that the next batch's RETRs overlap this one's fsyncs. */
static void batch_commit_start(fetch_batch *b)
{
	b->running = pthread_create(&b->thread, NULL, batch_commit_thread, b) == 0;
	if (!b->running)
		batch_commit_thread(b);
}

/* Wait for the commit, log what was queued, DELE it, free the batch. */
static void batch_finish(fetch_run *r, fetch_batch *b)
{
	long nums[BATCH_MAX];
	size_t ndele = 0;

	if (b->running)
		pthread_join(b->thread, NULL);
	b->running = 0;
	r->st->skipped += b->skipped;
	for (size_t i = 0; i < b->n; i++)
		if (b->recorded && b->items[i].ok && !r->mb->keep)
			nums[ndele++] = b->items[i].m->num;
	fetch_report(r, b->items, b->n);
	for (size_t i = 0; i < b->n; i++) {
		if (b->items[i].ok) {	/* published: only memory to free */
			qw_free(b->items[i].c.w);
			b->items[i].c.w = NULL;
		}
		collector_free(&b->items[i].c);	/* a failed one: its tmp file goes too */
	}
	b->n = 0;
	if (ndele && !pop3_broken(r->p))
		fetch_dele(r, nums, ndele);
}

/* Fetch all new messages: read batch k+1 while batch k commits; DELE batch k after. */
static void fetch_all(fetch_run *r, const pop3_msg **todo, size_t ntodo)
{
	fetch_batch *b[2] = { xcalloc(1, sizeof(fetch_batch)), xcalloc(1, sizeof(fetch_batch)) };
	fetch_batch *prev = NULL;
	int cur = 0;

	for (size_t i = 0; i < ntodo && !pop3_broken(r->p); i += BATCH_MAX, cur ^= 1) {
		batch_read(r, b[cur], todo + i, ntodo - i < BATCH_MAX ? ntodo - i : BATCH_MAX);
		if (prev)
			batch_finish(r, prev);
		batch_commit_start(b[cur]);
		prev = b[cur];
	}
	if (prev)
		batch_finish(r, prev);
	free(b[0]);
	free(b[1]);
}

/* Sort the listing into old messages to delete and new ones to fetch. */
static size_t fetch_classify(fetch_run *r, pop3_msg *msgs, size_t n, const pop3_msg **todo,
			     long *old, size_t *nold, size_t max)
{
	size_t ntodo = 0;

	*nold = 0;
	for (size_t i = 0; i < n; i++) {
		const pop3_msg *m = &msgs[i];
		int seen;

		if (m->unsafe || !m->uidl[0]) {
			msg_warn("pop %s: message %ld has no usable UIDL: left on the server",
				 r->mb->name, m->num);
			r->st->skipped++;
		} else if ((seen = uidl_seen(r->u, r->mb->name, m->uidl)) != 0) {
			if (seen > 0 && !r->mb->keep)
				old[(*nold)++] = m->num;
			if (seen < 0)
				r->st->skipped++;
		} else if (m->size > r->mb->size_limit) {
			msg_warn("pop %s: message %ld (uidl %s) is %lld bytes, over the limit of %lld:"
				 " left on the server", r->mb->name, m->num, m->uidl, m->size,
				 r->mb->size_limit);
			r->st->skipped++;
		} else if (ntodo < max) {
			todo[ntodo++] = m;
		}
	}
	return ntodo;
}

int fetch_mailbox(const mailbox *mb, const char *password, uidl_db *u, const char *queue_dir,
		  fetch_stats *st, fetch_progress_fn progress, void *ctx, char *err, size_t errlen)
{
	pop3_opts o;
	pop3_msg *msgs = NULL;
	size_t n = 0, ntodo, nold, max = (size_t)conf_int("pop_max_per_poll");
	const pop3_msg **todo;
	long *old;
	fetch_run r;
	pop3 *p;

	memset(st, 0, sizeof(*st));
	mailbox_pop3_opts(mb, password, &o);
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
	prune_gone(u, mb, msgs, n);
	r = (fetch_run){ p, mb, u, queue_dir, st, progress, ctx,
			 pop3_pipelining(p) ? RETR_WINDOW : 1 };
	todo = xcalloc(n ? n : 1, sizeof(*todo));
	old = xcalloc(n ? n : 1, sizeof(*old));
	ntodo = fetch_classify(&r, msgs, n, todo, old, &nold, max);
	if (nold)		/* fetched earlier, but that QUIT was lost */
		fetch_dele(&r, old, nold);
	fetch_all(&r, todo, ntodo);
	free(todo);
	free(old);
	free(msgs);
	st->quit_ok = !pop3_broken(p) && pop3_quit(p, err, errlen) == 0;
	if (!st->quit_ok)
		msg_warn("pop %s: session ended without QUIT (%s): deletions are undone; the next"
			 " poll deletes them without fetching again", mb->name,
			 pop3_broken(p) ? "server out of step" : err);
	msg_info("pop %s: server=%s:%s%s%s, listed=%ld, fetched=%ld, skipped=%ld, deleted=%ld,"
		 " bytes=%lld", mb->name, mb->server, mb->port, pop3_tls_info(p) ? ", tls=" : "",
		 pop3_tls_info(p) ? pop3_tls_info(p) : "", st->listed, st->fetched, st->skipped,
		 st->deleted, st->bytes);
	pop3_close(p);
	return 0;
}
