/*
 * qmgr_deliver.c - per-destination work queues, delivery requests, agent replies.
 *
 * Contract: recipients are grouped per destination (transport + nexthop) into jobs of
 * at most default_destination_recipient_limit recipients. A job starts only when the
 * destination and the total stay within their concurrency limits (sched.c). Starting
 * a job = connect to private/TRANSPORT, send one IPC_DELIVER, and wait for its reply
 * in the main poll loop. An agent that cannot be reached, dies, times out or answers
 * garbage defers the job's recipients that the file does not show as done: a dead
 * agent never loses mail. One log line per recipient, in Postfix's form.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/ipc.h"
#include "mail/ipc_proto.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "util/msg.h"
#include "qmgr.h"

#define QM_CONNECT_MS 5000
#define QM_SEND_MS 10000

static qm_dest *qm_dest_get(qmgr *q, const char *transport, const char *nexthop)
{
	qm_dest *d;

	for (d = q->dests; d; d = d->next)
		if (strcmp(d->transport, transport) == 0 && strcmp(d->nexthop, nexthop) == 0)
			return d;
	d = xcalloc(1, sizeof *d);
	snprintf(d->transport, sizeof d->transport, "%s", transport);
	snprintf(d->nexthop, sizeof d->nexthop, "%s", nexthop);
	/* append: destinations are served in the order they appeared */
	qm_dest **pp = &q->dests;
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	return d;
}

void qm_enqueue_msg(qmgr *q, qm_msg *m)
{
	for (size_t i = 0; i < m->nrcpt; i++) {
		qm_rcpt *r = &m->rcpt[i];
		if (r->state != R_PENDING)
			continue;
		qm_dest *d = qm_dest_get(q, r->rt.transport, r->rt.nexthop);
		qm_job *j = xcalloc(1, sizeof *j);
		j->msg = m;
		j->dest = d;
		j->fd = -1;
		j->ri = xcalloc((size_t)q->rcpt_limit, sizeof *j->ri);
		/* this and the following pending recipients for the same destination */
		for (size_t k = i; k < m->nrcpt && j->n < (size_t)q->rcpt_limit; k++) {
			qm_rcpt *o = &m->rcpt[k];
			if (o->state == R_PENDING && strcmp(o->rt.transport, d->transport) == 0
			    && strcmp(o->rt.nexthop, d->nexthop) == 0) {
				j->ri[j->n++] = k;
				o->state = R_INFLIGHT;	/* claimed by this job */
			}
		}
		if (d->tail)
			d->tail->next = j;
		else
			d->head = j;
		d->tail = j;
		m->todo++;
	}
}

/* Postfix prints small delays as 0 and keeps two significant digits otherwise. */
static void qm_fmt_delay(char *out, size_t len, double v)
{
	if (v < 0.005)
		snprintf(out, len, "0");
	else if (v < 10)
		snprintf(out, len, "%.2g", v);
	else
		snprintf(out, len, "%.0f", v);
}

void qm_log_rcpt(const qm_msg *m, const qm_rcpt *r, const char *status, double start_f,
		 const char *agent_delays)
{
	double now = qm_now();
	double a = m->active_f - m->arrival_f, b = start_f - m->active_f;
	double c = 0, d = now - start_f;
	char da[16], db[16], dc[16], dd[16], orig[400] = "";

	/* the agent's "c/d": connection setup and transmission */
	if (agent_delays && sscanf(agent_delays, "%lf/%lf", &c, &d) != 2) {
		c = 0;
		d = now - start_f;
	}
	qm_fmt_delay(da, sizeof da, a);
	qm_fmt_delay(db, sizeof db, b);
	qm_fmt_delay(dc, sizeof dc, c);
	qm_fmt_delay(dd, sizeof dd, d);
	if (r->orig && strcmp(r->orig, r->addr) != 0)
		snprintf(orig, sizeof orig, ", orig_to=<%s>", r->orig);
	msg_info("%s: to=<%s>%s, relay=%s, delay=%.2f, delays=%s/%s/%s/%s, dsn=%s, status=%s (%s)",
		 m->id, r->addr, orig, r->relay ? r->relay : "none",
		 now - m->arrival_f > 0 ? now - m->arrival_f : 0, da, db, dc, dd, r->status, status,
		 r->reason ? r->reason : "");
}

static void qm_set(qm_rcpt *r, int state, const char *status, const char *reason)
{
	r->state = state;
	snprintf(r->status, sizeof r->status, "%s", status);
	free(r->reason);
	r->reason = xstrdup(reason ? reason : "");
}

static int qm_state_of(const char *status)
{
	if (status == NULL)
		return R_DEFER;
	return status[0] == '2' ? R_SENT : status[0] == '5' ? R_BOUNCE : R_DEFER;
}

static const char *qm_status_word(int state)
{
	return state == R_SENT ? "sent" : state == R_BOUNCE ? "bounced" : "deferred";
}

/* The job could not run or its agent failed: recipients the agent marked done in the
 * file count as sent, the rest are deferred with `why`. */
static void qm_job_failed(qmgr *q, qm_job *j, const char *status, const char *why)
{
	qm_msg *m = j->msg;
	char path[PATH_MAX], err[256];
	qfile *qf = NULL;

	if (j->fd >= 0 && queue_path(path, sizeof path, q->queue_dir, Q_ACTIVE, m->id) == 0)
		qf = qf_open(path, O_RDONLY, err, sizeof err);
	for (size_t i = 0; i < j->n; i++) {
		qm_rcpt *r = &m->rcpt[j->ri[i]];
		if (qf && r->index < qf->env.nrcpt && qf->env.rcpt[r->index].done)
			qm_set(r, R_SENT, "2.0.0", "delivered; the agent exited before its reply");
		else
			qm_set(r, R_DEFER, status, why);
		qm_log_rcpt(m, r, qm_status_word(r->state), j->start_f, NULL);
	}
	if (qf)
		qf_close(qf);
}

static void qm_job_free(qm_job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->ri);
	free(j);
}

static ipc_msg *qm_request(qmgr *q, qm_job *j, const char *path)
{
	qm_msg *m = j->msg;
	ipc_msg *req = ipc_new(IPC_DELIVER);
	char name[32];
	int ok = 1;

	ok &= ipc_put_str(req, "queue_id", m->id) == 0;
	ok &= ipc_put_str(req, "queue_name", Q_ACTIVE) == 0;
	ok &= ipc_put_str(req, "path", path) == 0;
	ok &= ipc_put_str(req, "transport", j->dest->transport) == 0;
	ok &= ipc_put_str(req, "nexthop", j->dest->nexthop) == 0;
	ok &= ipc_put_str(req, "sender", m->sender) == 0;
	ok &= ipc_put_int(req, "arrival_us", (int64_t)(m->arrival_f * 1e6)) == 0;
	ok &= ipc_put_int(req, "rcpt_count", (int64_t)j->n) == 0;
	for (size_t i = 0; i < j->n; i++) {
		qm_rcpt *r = &m->rcpt[j->ri[i]];
		snprintf(name, sizeof name, "rcpt.%zu", i);
		ok &= ipc_put_str(req, name, r->addr) == 0;
		snprintf(name, sizeof name, "rcpt_index.%zu", i);
		ok &= ipc_put_int(req, name, (int64_t)r->index) == 0;
	}
	if (!ok) {
		ipc_free(req);
		return NULL;
	}
	return req;
}

static const char *qm_unavailable(qmgr *q, const char *transport, char *out, size_t len,
				  const char **status)
{
	if (strcmp(transport, q->rcfg.fax_transport) == 0) {
		*status = "4.4.1";
		return "fax service not available";
	}
	*status = "4.3.0";
	snprintf(out, len, "mail transport unavailable (%s)", transport);
	return out;
}

/* Returns 0 when the job is in flight, -1 when it failed at once (already handled). */
static int qm_job_start(qmgr *q, qm_job *j)
{
	char path[PATH_MAX], sock[PATH_MAX], why[256];
	const char *status;
	ipc_msg *req;

	j->start_f = qm_now();
	if (queue_path(path, sizeof path, q->queue_dir, Q_ACTIVE, j->msg->id) < 0
	    || snprintf(sock, sizeof sock, "%s/private/%s", q->queue_dir, j->dest->transport)
	       >= (int)sizeof sock)
		msg_fatal("%s: path too long", j->msg->id);
	j->fd = ipc_connect(sock, QM_CONNECT_MS);
	if (j->fd < 0) {
		const char *r = qm_unavailable(q, j->dest->transport, why, sizeof why, &status);
		j->fd = -1;
		qm_job_failed(q, j, status, r);
		return -1;
	}
	req = qm_request(q, j, path);
	if (req == NULL || ipc_send(j->fd, req, QM_SEND_MS) < 0) {
		snprintf(why, sizeof why, "cannot send the request to the %s service",
			 j->dest->transport);
		close(j->fd);
		j->fd = -1;
		qm_job_failed(q, j, "4.3.0", why);
		ipc_free(req);
		return -1;
	}
	ipc_free(req);
	j->deadline = time(NULL) + (time_t)q->ipc_timeout;
	return 0;
}

/* --- dead destinations ----------------------------------------------------------- */

static qm_dead *qm_dead_find(qmgr *q, const char *transport, const char *nexthop)
{
	time_t now = time(NULL);
	qm_dead **pp = &q->dead;

	while (*pp) {
		qm_dead *d = *pp;
		if (d->until <= now) {		/* expired: forget it */
			*pp = d->next;
			free(d);
			continue;
		}
		if (strcmp(d->transport, transport) == 0 && strcmp(d->nexthop, nexthop) == 0)
			return d;
		pp = &d->next;
	}
	return NULL;
}

void qm_dead_forget(qmgr *q)
{
	while (q->dead) {
		qm_dead *d = q->dead;
		q->dead = d->next;
		free(d);
	}
}

/* A job whose every recipient got a network-level temporary failure (4.4.x: connect
 * refused, lost connection, timeout, DNS) marks its destination dead for
 * transport_retry_time, so a backlog for a dead relay is not tried message by message.
 * Local and fax deliveries are never marked. */
static void qm_dead_note(qmgr *q, const qm_job *j)
{
	const qm_rcpt *first = &j->msg->rcpt[j->ri[0]];

	if (q->retry_time <= 0 || strcmp(j->dest->transport, q->rcfg.local_transport) == 0
	    || strcmp(j->dest->transport, q->rcfg.fax_transport) == 0)
		return;
	for (size_t i = 0; i < j->n; i++) {
		const qm_rcpt *r = &j->msg->rcpt[j->ri[i]];
		if (r->state != R_DEFER || strncmp(r->status, "4.4.", 4) != 0)
			return;
	}
	if (qm_dead_find(q, j->dest->transport, j->dest->nexthop))
		return;
	qm_dead *d = xcalloc(1, sizeof *d);
	snprintf(d->transport, sizeof d->transport, "%s", j->dest->transport);
	snprintf(d->nexthop, sizeof d->nexthop, "%s", j->dest->nexthop);
	snprintf(d->status, sizeof d->status, "%s", first->status);
	snprintf(d->reason, sizeof d->reason, "%s", first->reason ? first->reason : "");
	d->until = time(NULL) + (time_t)q->retry_time;
	d->next = q->dead;
	q->dead = d;
}

void qm_dispatch(qmgr *q)
{
	qm_dest **pp = &q->dests;

	while (*pp) {
		qm_dest *d = *pp;
		while (d->head && sched_can_start(&q->sch, d->transport, d->nexthop)) {
			qm_job *j = d->head;
			d->head = j->next;
			if (d->head == NULL)
				d->tail = NULL;
			j->next = NULL;
			j->msg->todo--;
			qm_dead *dead = qm_dead_find(q, d->transport, d->nexthop);
			if (dead) {
				char why[480];
				snprintf(why, sizeof why, "delivery temporarily suspended: %s", dead->reason);
				j->start_f = qm_now();
				qm_job_failed(q, j, dead->status, why);
				qm_msg *m = j->msg;
				qm_job_free(j);
				qm_maybe_finish(q, m);
				continue;
			}
			if (qm_job_start(q, j) == 0) {
				sched_start(&q->sch, d->transport, d->nexthop);
				j->msg->inflight++;
				j->next = q->inflight;
				q->inflight = j;
				q->ninflight++;
			} else {
				qm_msg *m = j->msg;
				qm_job_free(j);
				qm_maybe_finish(q, m);
			}
		}
		if (d->head == NULL && sched_active(&q->sch, d->transport, d->nexthop) == 0) {
			*pp = d->next;	/* nothing queued or in flight: forget it */
			free(d);
		} else {
			pp = &d->next;
		}
	}
}

static void qm_job_unlink(qmgr *q, qm_job *j)
{
	for (qm_job **pp = &q->inflight; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			q->ninflight--;
			break;
		}
	sched_done(&q->sch, j->dest->transport, j->dest->nexthop);
	j->msg->inflight--;
}

static void qm_apply_reply(qm_job *j, ipc_msg *rep)
{
	qm_msg *m = j->msg;
	const char *relay = ipc_get_str(rep, "relay");
	const char *delays = ipc_get_str(rep, "delays");
	char name[32], dl[64] = "";

	if (delays)
		snprintf(dl, sizeof dl, "%s", delays);
	for (size_t i = 0; i < j->n; i++) {
		qm_rcpt *r = &m->rcpt[j->ri[i]];
		snprintf(name, sizeof name, "status.%zu", i);
		const char *st = ipc_get_str(rep, name);
		snprintf(name, sizeof name, "reason.%zu", i);
		const char *why = ipc_get_str(rep, name);
		snprintf(name, sizeof name, "action.%zu", i);
		const char *act = ipc_get_str(rep, name);
		if (st == NULL) {
			qm_set(r, R_DEFER, "4.3.0", "delivery agent reply without a status");
		} else {
			qm_set(r, qm_state_of(st), st, why);
		}
		snprintf(r->action, sizeof r->action, "%s", act ? act : "delivered");
		free(r->relay);
		r->relay = xstrdup(relay ? relay : "none");
		qm_log_rcpt(m, r, qm_status_word(r->state), j->start_f, dl[0] ? dl : NULL);
		snprintf(name, sizeof name, "conneg.%zu", i);
		const char *caps = ipc_get_str(rep, name);
		if (caps)	/* the next hop's capabilities for this recipient (RFC 4141) */
			msg_info("%s: to=<%s>, relay=%s, conneg=%s", m->id, r->addr, r->relay, caps);
	}
}

void qm_job_reply(qmgr *q, qm_job *j)
{
	char err[256];
	ipc_msg *rep = ipc_recv(j->fd, IPC_DEFAULT_MAX, 10000, err, sizeof err);
	qm_msg *m = j->msg;

	qm_job_unlink(q, j);
	if (rep == NULL || ipc_type(rep) != IPC_DELIVER_REPLY) {
		char why[400];
		snprintf(why, sizeof why, "delivery agent %s failed: %s", j->dest->transport,
			 rep ? "unexpected reply type" : err);
		if (rep == NULL)
			msg_warn("%s: %s", m->id, why);
		qm_job_failed(q, j, "4.3.0", why);
	} else {
		qm_apply_reply(j, rep);
		qm_dead_note(q, j);
	}
	ipc_free(rep);
	qm_job_free(j);
	qm_maybe_finish(q, m);
}

void qm_job_timeouts(qmgr *q)
{
	time_t now = time(NULL);
	qm_job *j = q->inflight, *next;

	for (; j; j = next) {
		next = j->next;
		if (j->deadline > now)
			continue;
		qm_msg *m = j->msg;
		qm_job_unlink(q, j);
		msg_warn("%s: delivery agent %s timed out after %llds", m->id,
			 j->dest->transport, (long long)q->ipc_timeout);
		qm_job_failed(q, j, "4.4.2", "delivery agent timed out");
		qm_job_free(j);
		qm_maybe_finish(q, m);
	}
}
