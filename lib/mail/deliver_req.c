/*
 * deliver_req.c - read an IPC_DELIVER request, record results, send the reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/config.h"
#include "mail/deliver_req.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"
#include "mail/queue_rec.h"
#include "util/buf.h"
#include "util/msg.h"

int deliver_req_read(int fd, deliver_req *req, char *err, size_t errlen)
{
	char name[32], qerr[256];
	int64_t count, idx;

	memset(req, 0, sizeof *req);
	req->msg = ipc_recv(fd, IPC_DEFAULT_MAX, 30000, err, errlen);
	if (req->msg == NULL)
		return -1;
	if (ipc_type(req->msg) != IPC_DELIVER) {
		snprintf(err, errlen, "unexpected request type");
		return -1;
	}
	req->queue_id = ipc_get_str(req->msg, "queue_id");
	req->path = ipc_get_str(req->msg, "path");
	req->nexthop = ipc_get_str(req->msg, "nexthop");
	req->transport = ipc_get_str(req->msg, "transport");
	req->sender = ipc_get_str(req->msg, "sender");
	if (!req->queue_id || !req->path || !req->nexthop
	    || ipc_get_int(req->msg, "rcpt_count", &count) < 0
	    || count < 1 || count > DELIVER_MAX_RCPT) {
		snprintf(err, errlen, "request without queue_id, path, nexthop or rcpt_count");
		return -1;
	}
	if (!req->transport)
		req->transport = "";
	if (ipc_get_int(req->msg, "arrival_us", &req->arrival_us) < 0)
		req->arrival_us = 0;
	if ((req->qf = qf_open(req->path, O_RDWR, qerr, sizeof qerr)) == NULL) {
		snprintf(err, errlen, "%s: %s", req->queue_id, qerr);
		return -1;
	}
	if (req->sender == NULL)
		req->sender = req->qf->env.sender ? req->qf->env.sender : "";
	req->n = (size_t)count;
	req->rcpt = xcalloc(req->n, sizeof *req->rcpt);
	for (size_t i = 0; i < req->n; i++) {
		snprintf(name, sizeof name, "rcpt.%zu", i);
		req->rcpt[i].addr = ipc_get_str(req->msg, name);
		snprintf(name, sizeof name, "rcpt_index.%zu", i);
		if (req->rcpt[i].addr == NULL || ipc_get_int(req->msg, name, &idx) < 0
		    || idx < 0 || (uint64_t)idx >= req->qf->env.nrcpt) {
			snprintf(err, errlen, "%s: bad recipient %zu in request", req->queue_id, i);
			return -1;
		}
		req->rcpt[i].index = (size_t)idx;
		req->rcpt[i].q = &req->qf->env.rcpt[idx];
	}
	snprintf(req->relay, sizeof req->relay, "none");
	return 0;
}

/* The done mark is written without fsync, as Postfix does: qmgr removes the file as
 * soon as every recipient is final, and a mark lost to a power cut only means one
 * duplicate delivery (security.md I2 window "after the remote 250, before our
 * done-mark"), while an fdatasync per recipient halves relay throughput. The byte is
 * in the page cache the moment pwrite returns, so a kill -9 of any process loses
 * nothing. */
static int deliver_mark_done(qfile *qf, size_t i)
{
	static const unsigned char done = QRCPT_DONE;
	ssize_t n;

	if (i >= qf->env.nrcpt) {
		errno = EINVAL;
		return -1;
	}
	while ((n = pwrite(qf->fd, &done, 1, qf->env.rcpt[i].status_off)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		if (n == 0)
			errno = EIO;
		return -1;
	}
	qf->env.rcpt[i].done = 1;
	return 0;
}

void deliver_req_status(deliver_req *req, size_t i, const char *status, const char *reason,
			const char *action)
{
	deliver_rcpt *r = &req->rcpt[i];

	if (status[0] == '2' && !r->q->done && deliver_mark_done(req->qf, r->index) < 0) {
		msg_warn("%s: cannot mark recipient %s done: %m", req->queue_id, r->addr);
		status = "4.3.0";
		reason = "delivered, but the queue file could not be updated";
	}
	snprintf(r->status, sizeof r->status, "%s", status);
	free(r->reason);
	r->reason = xstrdup(reason ? reason : "");
	snprintf(r->action, sizeof r->action, "%s", action ? action : "");
}

void deliver_req_status_rest(deliver_req *req, const char *status, const char *reason)
{
	for (size_t i = 0; i < req->n; i++)
		if (req->rcpt[i].status[0] == 0)
			deliver_req_status(req, i, status, reason, NULL);
}

int deliver_req_reply(int fd, deliver_req *req)
{
	ipc_msg *rep = ipc_new(IPC_DELIVER_REPLY);
	char name[32];
	int rc;

	deliver_req_status_rest(req, "4.3.0", "no result for this recipient");
	ipc_put_str(rep, "relay", req->relay);
	if (req->delays[0])
		ipc_put_str(rep, "delays", req->delays);
	for (size_t i = 0; i < req->n; i++) {
		deliver_rcpt *r = &req->rcpt[i];
		snprintf(name, sizeof name, "status.%zu", i);
		ipc_put_str(rep, name, r->status);
		snprintf(name, sizeof name, "reason.%zu", i);
		ipc_put_str(rep, name, r->reason ? r->reason : "");
		if (r->action[0]) {
			snprintf(name, sizeof name, "action.%zu", i);
			ipc_put_str(rep, name, r->action);
		}
		if (r->conneg) {
			snprintf(name, sizeof name, "conneg.%zu", i);
			ipc_put_str(rep, name, r->conneg);
		}
	}
	rc = ipc_send(fd, rep, 30000);
	ipc_free(rep);
	return rc;
}

void deliver_req_free(deliver_req *req)
{
	for (size_t i = 0; req->rcpt && i < req->n; i++) {
		free(req->rcpt[i].reason);
		free(req->rcpt[i].conneg);
	}
	free(req->rcpt);
	if (req->qf)
		qf_close(req->qf);
	ipc_free(req->msg);
	memset(req, 0, sizeof *req);
}
