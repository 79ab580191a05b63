/*
 * qmgr_finish.c - the end of a delivery pass for one message.
 *
 * Contract: runs when no job of the message is queued or in flight. In order:
 * temporary failures of an expired message become bounces (5.4.7); bounced recipients
 * get one failure notice (if wanted: never to the null sender; a copy to
 * error_notice_recipient) and only after it is committed are they marked done in the
 * file (a crash in between may repeat a notice, never lose one); success notices for
 * NOTIFY=SUCCESS; one delay notice when delay_warning_time has passed. Then a message
 * with deferred recipients gets its reasons in defer/ID, its retry time as the mtime,
 * and moves to deferred/; otherwise it is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mail/dsn.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "util/msg.h"
#include "qmgr.h"

static void qm_expire(qmgr *q, qm_msg *m, time_t now)
{
	long long life = m->sender[0] ? q->lifetime : q->bounce_lifetime;
	int any = 0;

	if (!sched_expired(now, m->arrival, life))
		return;
	for (size_t i = 0; i < m->nrcpt; i++) {
		qm_rcpt *r = &m->rcpt[i];
		if (r->state != R_DEFER)
			continue;
		char why[600];
		snprintf(why, sizeof why, "delivery time expired; last error: %s",
			 r->reason ? r->reason : "none");
		free(r->reason);
		r->reason = xstrdup(why);
		snprintf(r->status, sizeof r->status, "5.4.7");
		r->state = R_BOUNCE;
		any = 1;
	}
	if (any)
		msg_info("%s: from=<%s>, status=expired, returned to sender", m->id, m->sender);
}

/* Collect recipients in `state` that want a notice of `kind` (or all when kind < 0). */
static size_t qm_collect(qm_msg *m, int state, int kind, qm_rcpt **out)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nrcpt; i++) {
		qm_rcpt *r = &m->rcpt[i];
		if (r->state != state)
			continue;
		if (kind >= 0 && !dsn_wanted((dsn_kind)kind, m->sender, r->notify))
			continue;
		if (kind == DSN_SUCCESS && strcmp(r->action, "passed") == 0)
			continue;	/* the next hop took over the DSN duty */
		out[n++] = r;
	}
	return n;
}

static void qm_bounces(qmgr *q, qm_msg *m)
{
	qm_rcpt **rs = xcalloc(m->nrcpt + 1, sizeof *rs);
	size_t nall = qm_collect(m, R_BOUNCE, -1, rs);
	char newid[QUEUE_ID_LEN + 1] = "";
	int ok = 1;

	if (nall == 0) {
		free(rs);
		return;
	}
	size_t n = qm_collect(m, R_BOUNCE, DSN_FAILURE, rs);
	if (n > 0 || q->error_notice[0]) {
		/* the copy to error_notice_recipient reports every bounced recipient */
		if (n == 0)
			n = qm_collect(m, R_BOUNCE, -1, rs);
		ok = qm_notice(q, m, DSN_FAILURE, rs, n, newid, sizeof newid) == 0;
		if (ok && newid[0])
			msg_info("%s: sender non-delivery notification: %s", m->id, newid);
	} else if (m->sender[0] == 0) {
		msg_info("%s: undeliverable bounce discarded (null sender)", m->id);
	}
	nall = qm_collect(m, R_BOUNCE, -1, rs);
	if (!ok) {
		/* keep them: retry later rather than lose the notice */
		for (size_t i = 0; i < nall; i++) {
			rs[i]->state = R_DEFER;
			snprintf(rs[i]->status, sizeof rs[i]->status, "4.3.0");
		}
		free(rs);
		return;
	}
	char path[PATH_MAX], err[256];
	qfile *qf = NULL;
	if (queue_path(path, sizeof path, q->queue_dir, Q_ACTIVE, m->id) == 0)
		qf = qf_open(path, O_RDWR, err, sizeof err);
	for (size_t i = 0; i < nall; i++) {
		if (qf == NULL || qf_mark_done(qf, rs[i]->index) < 0)
			msg_warn("%s: mark recipient %s done: %m", m->id, rs[i]->addr);
		rs[i]->state = R_FINAL;
	}
	if (qf)
		qf_close(qf);
	free(rs);
}

static void qm_successes(qmgr *q, qm_msg *m)
{
	qm_rcpt **rs = xcalloc(m->nrcpt + 1, sizeof *rs);
	size_t n = qm_collect(m, R_SENT, DSN_SUCCESS, rs);
	char newid[QUEUE_ID_LEN + 1] = "";

	if (n > 0 && qm_notice(q, m, DSN_SUCCESS, rs, n, newid, sizeof newid) == 0)
		msg_info("%s: sender delivery status notification: %s", m->id, newid);
	for (size_t i = 0; i < m->nrcpt; i++)
		if (m->rcpt[i].state == R_SENT)
			m->rcpt[i].state = R_FINAL;
	free(rs);
}

static void qm_delay_notice(qmgr *q, qm_msg *m, time_t now)
{
	if (!sched_warn_due(now, m->arrival, q->warn_time, m->warned))
		return;
	qm_rcpt **rs = xcalloc(m->nrcpt + 1, sizeof *rs);
	size_t n = qm_collect(m, R_DEFER, DSN_DELAY, rs);
	char newid[QUEUE_ID_LEN + 1] = "";

	if (n > 0 && qm_notice(q, m, DSN_DELAY, rs, n, newid, sizeof newid) == 0)
		msg_info("%s: sender delay notification: %s", m->id, newid);
	m->warned = 1;	/* once per message, also when nobody wanted one */
	free(rs);
}

static void qm_defer(qmgr *q, qm_msg *m, time_t now)
{
	char path[PATH_MAX];
	buf text;

	buf_init(&text, 1024 * 1024);
	if (m->warned)
		buf_append_str(&text, "*\twarned\t1\n");
	for (size_t i = 0; i < m->nrcpt; i++) {
		qm_rcpt *r = &m->rcpt[i];
		if (r->state != R_DEFER)
			continue;
		buf_printf(&text, "%s\t%s\t", r->orig ? r->orig : r->addr, r->status);
		for (const char *p = r->reason ? r->reason : ""; *p; p++)
			buf_append_char(&text, (*p == '\n' || *p == '\t') ? ' ' : *p);
		buf_append_char(&text, '\n');
	}
	if (queue_defer_write(q->queue_dir, m->id, buf_str(&text)) < 0)
		msg_warn("%s: write delay reasons: %m", m->id);
	buf_free(&text);

	time_t retry = sched_next_retry(now, m->arrival, q->min_backoff, q->max_backoff);
	struct timespec ts[2] = { { retry, 0 }, { retry, 0 } };
	if (queue_path(path, sizeof path, q->queue_dir, Q_ACTIVE, m->id) == 0
	    && utimensat(AT_FDCWD, path, ts, 0) < 0)
		msg_warn("%s: set retry time: %m", m->id);
	if (queue_move(q->queue_dir, m->id, Q_ACTIVE, Q_DEFERRED) < 0)
		msg_warn("%s: move to %s/: %m", m->id, Q_DEFERRED);
}

void qm_maybe_finish(qmgr *q, qm_msg *m)
{
	time_t now = time(NULL);
	int deferred = 0;

	if (m->inflight > 0 || m->todo > 0)
		return;
	qm_expire(q, m, now);
	qm_bounces(q, m);
	qm_successes(q, m);
	for (size_t i = 0; i < m->nrcpt; i++)
		if (m->rcpt[i].state == R_DEFER)
			deferred++;
	if (deferred) {
		qm_delay_notice(q, m, now);
		qm_defer(q, m, now);
	} else {
		if (queue_remove(q->queue_dir, m->id, Q_ACTIVE) < 0 && errno != ENOENT)
			msg_warn("%s: remove: %m", m->id);
		else
			msg_info("%s: removed", m->id);
	}
	qm_msg_free(q, m);
	if (q->incoming_more)
		q->scan_incoming = 1;
}
