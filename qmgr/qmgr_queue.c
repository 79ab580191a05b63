/*
 * qmgr_queue.c - taking messages into the active queue and loading them.
 *
 * Contract: a file is renamed into active/ before it is read (the rename is the
 * claim: a `faxpost queue` command racing with us gets ENOENT and leaves it). A file
 * that does not validate goes to corrupt/ with a warning. Loading rewrites each
 * pending recipient (address book, aliases) and resolves its route; a recipient that
 * expands to several addresses is handed on in a new queue file (like Postfix's local
 * alias forwarding) and marked done here, so that per-recipient status in the file
 * always refers to exactly one delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/queue.h"
#include "mail/queue_scan.h"
#include "util/msg.h"
#include "qmgr.h"

void qm_msg_free(qmgr *q, qm_msg *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else if (q->msgs == m)
		q->msgs = m->next;
	if (m->next)
		m->next->prev = m->prev;
	if (q->nmsgs > 0)
		q->nmsgs--;
	for (size_t i = 0; i < m->nrcpt; i++) {
		free(m->rcpt[i].addr);
		free(m->rcpt[i].orig);
		free(m->rcpt[i].orcpt);
		free(m->rcpt[i].reason);
		free(m->rcpt[i].relay);
	}
	free(m->rcpt);
	free(m->sender);
	free(m->envid);
	free(m);
}

static void qm_corrupt(qmgr *q, const char *id, const char *why)
{
	msg_warn("%s: corrupt queue file, moved to %s/: %s", id, Q_CORRUPT, why);
	if (queue_move(q->queue_dir, id, Q_ACTIVE, Q_CORRUPT) < 0)
		msg_warn("%s: move to %s/: %m", id, Q_CORRUPT);
}

/* Forward the message to the members of an alias in a new queue file. */
static int qm_forward(qmgr *q, qfile *qf, const qrcpt *orig, const route_expansion *exp,
		      char *newid, size_t idlen)
{
	char err[256], chunk[65536];
	qenvelope env;
	qwriter *w;
	char orcpt[600];

	if ((w = qw_create(q->queue_dir, err, sizeof err)) == NULL) {
		msg_warn("%s: forward: %s", qf->id, err);
		return -1;
	}
	qenv_init(&env);
	env.sender = qf->env.sender;
	env.arrival_us = (int64_t)(qm_now() * 1e6);
	env.origin = "local";
	env.protocol = "local";
	env.envid = qf->env.envid;
	env.ret = qf->env.ret;
	env.body_8bit = qf->env.body_8bit;
	if (orig->orcpt)
		snprintf(orcpt, sizeof orcpt, "%s", orig->orcpt);
	else
		snprintf(orcpt, sizeof orcpt, "rfc822;%s", orig->addr);
	/* RFC 3461 6.2.7.3, as Postfix: the "expanded" DSN answers SUCCESS; the members
	 * keep the other NOTIFY bits (SUCCESS alone becomes NEVER) */
	int notify = orig->notify;
	if (notify & DSN_NOTIFY_SUCCESS)
		notify = notify == DSN_NOTIFY_SUCCESS ? DSN_NOTIFY_NEVER : notify & ~DSN_NOTIFY_SUCCESS;
	for (size_t i = 0; i < exp->n; i++)
		qenv_add_rcpt(&env, exp->addr[i], orcpt, notify);
	int rc = qw_envelope(w, &env);
	for (off_t off = 0; rc == 0 && off < qf->content_len; ) {
		ssize_t n = qf_read_content(qf, off, chunk, sizeof chunk);
		if (n <= 0) {
			rc = -1;
			break;
		}
		rc = qw_content(w, chunk, (size_t)n);
		off += n;
	}
	/* the recipients belong to env; the strings we borrowed do not */
	env.sender = NULL;
	env.origin = env.protocol = env.envid = NULL;
	if (rc == 0 && qw_commit(w, err, sizeof err) == 0) {
		snprintf(newid, idlen, "%s", qw_id(w));
	} else {
		msg_warn("%s: forward: %s", qf->id, rc ? "write error" : err);
		qw_abort(w);
		rc = -1;
	}
	qw_free(w);
	qenv_free(&env);
	return rc;
}

/* Rewrite and route one pending recipient. Returns 0 when it is to be delivered,
 * 1 when it was dealt with here (forwarded: marked done). */
static int qm_prepare_rcpt(qmgr *q, qm_msg *m, qfile *qf, size_t idx, qm_rcpt *r)
{
	route_expansion exp;
	const qrcpt *qr = &qf->env.rcpt[idx];

	r->index = idx;
	r->orig = xstrdup(qr->addr);
	r->orcpt = qr->orcpt ? xstrdup(qr->orcpt) : NULL;
	r->notify = qr->notify;
	r->state = R_PENDING;
	if (route_rewrite(&q->rcfg, q->book_map ? qm_dict_lookup : NULL, q->book_map,
			  q->alias_map ? qm_dict_lookup : NULL, q->alias_map, qr->addr, &exp)) {
		if (exp.error) {
			r->addr = xstrdup(qr->addr);
			r->state = R_BOUNCE;
			snprintf(r->status, sizeof r->status, "5.4.6");
			r->reason = xstrdup(exp.reason);
			route_expansion_free(&exp);
			qm_log_rcpt(m, r, "bounced", m->active_f, NULL);
			return 0;
		}
		if (exp.n == 1) {
			r->addr = xstrdup(exp.addr[0]);
		} else {
			char newid[QUEUE_ID_LEN + 1] = "";
			r->addr = xstrdup(qr->addr);
			if (qm_forward(q, qf, qr, &exp, newid, sizeof newid) < 0) {
				r->state = R_DEFER;
				snprintf(r->status, sizeof r->status, "4.3.0");
				r->reason = xstrdup("cannot write the alias expansion to the queue");
				qm_log_rcpt(m, r, "deferred", m->active_f, NULL);
			} else {
				char why[128];
				snprintf(why, sizeof why, "forwarded as %s", newid);
				r->state = R_SENT;
				snprintf(r->status, sizeof r->status, "2.0.0");
				r->reason = xstrdup(why);
				snprintf(r->action, sizeof r->action, "expanded");
				qm_log_rcpt(m, r, "sent", m->active_f, NULL);
				if (qf_mark_done(qf, idx) < 0)
					msg_warn("%s: mark recipient done: %m", m->id);
				/* stays R_SENT: NOTIFY=SUCCESS gets an "expanded" DSN */
				q->scan_incoming = 1;
			}
			route_expansion_free(&exp);
			return 1;
		}
		route_expansion_free(&exp);
	} else {
		r->addr = xstrdup(qr->addr);
	}
	route_resolve(&q->rcfg, r->addr, &r->rt);
	if (r->rt.error) {
		r->state = R_BOUNCE;
		snprintf(r->status, sizeof r->status, "%s", r->rt.dsn);
		r->reason = xstrdup(r->rt.reason);
		qm_log_rcpt(m, r, "bounced", m->active_f, NULL);
	}
	return 0;
}

static int qm_warned_before(qmgr *q, const char *id)
{
	char *text = queue_defer_read(q->queue_dir, id);
	int warned = text && (strncmp(text, "*\twarned", 8) == 0 || strstr(text, "\n*\twarned"));

	free(text);
	return warned;
}

/* Load active/ID into memory and queue its work. */
static void qm_load(qmgr *q, const char *id)
{
	char path[PATH_MAX], err[256];
	qfile *qf;
	qm_msg *m;

	if (queue_path(path, sizeof path, q->queue_dir, Q_ACTIVE, id) < 0)
		return;
	if ((qf = qf_open(path, O_RDWR, err, sizeof err)) == NULL) {
		if (errno == ENOENT)
			return;
		qm_corrupt(q, id, err);
		return;
	}
	m = xcalloc(1, sizeof *m);
	snprintf(m->id, sizeof m->id, "%s", id);
	m->sender = xstrdup(qf->env.sender ? qf->env.sender : "");
	m->envid = qf->env.envid ? xstrdup(qf->env.envid) : NULL;
	m->ret = qf->env.ret;
	m->arrival_f = (double)qf->env.arrival_us / 1e6;
	m->arrival = (time_t)(qf->env.arrival_us / 1000000);
	m->active_f = qm_now();
	m->size = (long long)qf->content_len;
	m->rcpt = xcalloc(qf->env.nrcpt ? qf->env.nrcpt : 1, sizeof *m->rcpt);
	m->next = q->msgs;
	if (q->msgs)
		q->msgs->prev = m;
	q->msgs = m;
	q->nmsgs++;
	msg_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)", m->id, m->sender,
		 m->size, qf->env.nrcpt);
	for (size_t i = 0; i < qf->env.nrcpt; i++) {
		if (qf->env.rcpt[i].done)
			continue;
		qm_prepare_rcpt(q, m, qf, i, &m->rcpt[m->nrcpt]);
		m->nrcpt++;
	}
	qf_close(qf);
	m->warned = qm_warned_before(q, id);
	qm_enqueue_msg(q, m);
	qm_maybe_finish(q, m);
}

void qm_scan_incoming(qmgr *q)
{
	char err[256];
	queue_scan *s = queue_scan_open(q->queue_dir, Q_INCOMING, QSCAN_SORT, err, sizeof err);
	queue_entry e;

	q->incoming_more = 0;
	if (s == NULL) {
		msg_warn("scan %s/: %s", Q_INCOMING, err);
		return;
	}
	while (queue_scan_next(s, &e) == 1) {
		if (q->nmsgs >= q->active_limit) {
			q->incoming_more = 1;
			break;
		}
		if (queue_move(q->queue_dir, e.id, Q_INCOMING, Q_ACTIVE) < 0) {
			if (errno != ENOENT)
				msg_warn("%s: move to %s/: %m", e.id, Q_ACTIVE);
			continue;
		}
		qm_load(q, e.id);
	}
	queue_scan_close(s);
}

void qm_scan_deferred(qmgr *q, int all)
{
	char err[256];
	queue_scan *s = queue_scan_open(q->queue_dir, Q_DEFERRED, QSCAN_STAT, err, sizeof err);
	queue_entry e;
	time_t now = time(NULL);

	if (s == NULL) {
		msg_warn("scan %s/: %s", Q_DEFERRED, err);
		return;
	}
	while (queue_scan_next(s, &e) == 1) {
		if (q->nmsgs >= q->active_limit)
			break;
		if (!all && e.mtime > now)
			continue;	/* its retry time has not come */
		if (queue_move(q->queue_dir, e.id, Q_DEFERRED, Q_ACTIVE) < 0) {
			if (errno != ENOENT)
				msg_warn("%s: move to %s/: %m", e.id, Q_ACTIVE);
			continue;
		}
		qm_load(q, e.id);
	}
	queue_scan_close(s);
}
