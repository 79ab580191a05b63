/*
 * qmgr_notice.c - write a delivery status notification as a new queue message.
 *
 * Contract: the notice is composed by lib/mail/dsn.c from the original in active/ID
 * and committed with the queue API (origin "bounce", null sender, fsynced before this
 * returns 0), addressed to the original sender when one of the recipients wants it,
 * plus error_notice_recipient for failures. Returns -1 (nothing written) on error.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/dsn.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "util/msg.h"
#include "qmgr.h"

#define QM_NOTICE_MAX (64LL * 1024 * 1024)

static int qm_read_original(qmgr *q, const char *id, buf *out)
{
	char path[PATH_MAX], err[256], chunk[65536];
	qfile *qf;

	if (queue_path(path, sizeof path, q->queue_dir, Q_ACTIVE, id) < 0
	    || (qf = qf_open(path, O_RDONLY, err, sizeof err)) == NULL)
		return -1;
	for (off_t off = 0; off < qf->content_len && off < QM_NOTICE_MAX; ) {
		ssize_t n = qf_read_content(qf, off, chunk, sizeof chunk);
		if (n <= 0 || buf_append(out, chunk, (size_t)n) < 0) {
			qf_close(qf);
			return -1;
		}
		off += n;
	}
	qf_close(qf);
	return 0;
}

int qm_notice(qmgr *q, qm_msg *m, int kind, qm_rcpt **rs, size_t n, char *newid, size_t idlen)
{
	buf orig, text;
	dsn_rcpt *dr = xcalloc(n ? n : 1, sizeof *dr);
	dsn_info info;
	qenvelope env;
	qwriter *w = NULL;
	char err[256];
	int to_sender = 0, rc = -1;
	static const char *actions[] = { "failed", "delayed", "delivered" };

	for (size_t i = 0; i < n; i++) {
		dr[i].addr = rs[i]->addr;
		dr[i].orcpt = rs[i]->orcpt;
		dr[i].status = rs[i]->status;
		dr[i].reason = rs[i]->reason;
		dr[i].action = actions[kind];
		if (kind == DSN_SUCCESS && (strcmp(rs[i]->action, "relayed") == 0
					    || strcmp(rs[i]->action, "expanded") == 0))
			dr[i].action = rs[i]->action;
		if (rs[i]->relay && strcmp(rs[i]->relay, "none") != 0 && strcmp(rs[i]->relay, "local") != 0)
			dr[i].remote_mta = rs[i]->relay;
		if (dsn_wanted((dsn_kind)kind, m->sender, rs[i]->notify))
			to_sender = 1;
	}
	buf_init(&orig, 0);
	buf_init(&text, 0);
	qenv_init(&env);
	if (qm_read_original(q, m->id, &orig) < 0) {
		msg_warn("%s: cannot read the message for a notice", m->id);
		goto out;
	}
	if ((w = qw_create(q->queue_dir, err, sizeof err)) == NULL) {
		msg_warn("%s: notice: %s", m->id, err);
		goto out;
	}
	memset(&info, 0, sizeof info);
	info.kind = (dsn_kind)kind;
	info.reporting_mta = q->myhostname[0] ? q->myhostname : "localhost";
	info.queue_id = m->id;
	info.sender = m->sender;
	info.envid = m->envid;
	info.arrival = m->arrival;
	info.now = time(NULL);
	info.retry_until = m->arrival + (time_t)q->lifetime;
	info.ret = m->ret;
	info.notice_id = qw_id(w);
	if (dsn_compose(&info, dr, n, orig.data ? orig.data : "", orig.len, &text) < 0) {
		msg_warn("%s: notice too large", m->id);
		goto out;
	}
	env.sender = xstrdup("");
	env.arrival_us = (int64_t)(qm_now() * 1e6);
	env.origin = xstrdup("bounce");
	env.protocol = xstrdup("local");
	if (to_sender)
		qenv_add_rcpt(&env, m->sender, NULL, DSN_NOTIFY_NEVER);
	if (kind == DSN_FAILURE && q->error_notice[0] && strcmp(q->error_notice, m->sender) != 0)
		qenv_add_rcpt(&env, q->error_notice, NULL, DSN_NOTIFY_NEVER);
	if (env.nrcpt == 0) {
		rc = 0;		/* nobody to tell */
		qw_abort(w);
		goto out;
	}
	if (qw_envelope(w, &env) < 0 || qw_content(w, text.data, text.len) < 0
	    || qw_commit(w, err, sizeof err) < 0) {
		msg_warn("%s: notice: write failed: %s", m->id, err);
		qw_abort(w);
		goto out;
	}
	snprintf(newid, idlen, "%s", qw_id(w));
	q->scan_incoming = 1;
	rc = 0;
out:
	if (w)
		qw_free(w);
	qenv_free(&env);
	buf_free(&orig);
	buf_free(&text);
	free(dr);
	return rc;
}
